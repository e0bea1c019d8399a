"""Limits that hold for the whole backend (kiosk/backend/api/limits.py), on a real SQLite file
and a real PostgreSQL: the sliding window, Retry-After, keys apart, and several processes
taking from one limit without passing more than it allows."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import event

from kiosk.backend.api import limits
from kiosk.backend.api.auth import RateLimited
from kiosk.backend.api.limits import DatabaseCounts, MemoryCounts, SharedLimit, shared_limit
from kiosk.backend.db import create_db_engine, migrate


def made_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.db'}"
    else:
        url = request.getfixturevalue("postgresql").new_database("limits")
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory"  # this process's own counts: one backend process on SQLite
    return made_database(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return made_database(request.param, request, tmp_path)


@pytest.fixture
def limit_on(database_url: str) -> Iterator[Callable[..., SharedLimit]]:
    engines = []

    memory = MemoryCounts()

    def make(limit: int, clock: Callable[[], float], namespace: str = "token:") -> SharedLimit:
        if database_url == "memory":
            return SharedLimit(memory, namespace, limit, clock=clock)
        engine = create_db_engine(database_url, pool_size=2)
        engines.append(engine)
        return SharedLimit(DatabaseCounts(engine, namespace), namespace, limit, clock=clock)

    yield make
    for engine in engines:
        engine.dispose()


def test_a_minute_holds_the_limit_and_says_how_long_to_wait(
    limit_on: Callable[..., SharedLimit],
) -> None:
    now = [6000.0]  # the start of a window
    limit = limit_on(6, lambda: now[0])
    for _ in range(6):
        limit.take("kiosk-a")
    with pytest.raises(RateLimited) as raised:
        limit.take("kiosk-a")
    # This window is full: 60 s to the next, where the six still weigh until a sixth of it
    # has passed (6 x 5/6 = 5 leaves one place): 70 s.
    assert raised.value.retry_after == 70
    assert limit.waiting("kiosk-a") == raised.value.retry_after
    limit.take("kiosk-b")  # another key has its own count
    assert limit.waiting("kiosk-b") is None
    # Half-way into the next window the previous one weighs half: 3 of 6 fit again.
    now[0] = 6090.0
    for _ in range(3):
        limit.take("kiosk-a")
    with pytest.raises(RateLimited) as raised:
        limit.take("kiosk-a")
    assert 1 <= raised.value.retry_after <= 10  # the old window keeps sliding away
    now[0] += raised.value.retry_after
    limit.take("kiosk-a")  # the wait it gave was enough
    # Two windows on, nothing of the old counts is left.
    now[0] = 6240.0
    for _ in range(6):
        limit.take("kiosk-a")


def test_refused_events_are_not_counted_and_zero_means_no_limit(
    limit_on: Callable[..., SharedLimit],
) -> None:
    now = [12000.0]
    limit = limit_on(2, lambda: now[0])
    limit.take("k")
    limit.take("k")
    for _ in range(50):  # a client hammering while refused does not dig itself deeper
        with pytest.raises(RateLimited):
            limit.take("k")
    now[0] += 90.0  # half-way into the next window the previous one weighs half
    limit.take("k")  # 2 x 0.5 + 1 = 2: one fits (had the 50 refusals counted, none would)
    with pytest.raises(RateLimited):
        limit.take("k")
    unlimited = limit_on(0, lambda: now[0], namespace="off:")
    for _ in range(100):
        unlimited.take("k")
    assert unlimited.waiting("k") is None


@pytest.fixture
def limits_on_one_store(database_url: str) -> Iterator[Callable[..., SharedLimit]]:
    """Limits counting in one store, as the guard's three do (one engine, or this process)."""
    memory = MemoryCounts()
    engine = None if database_url == "memory" else create_db_engine(database_url, pool_size=2)

    def make(
        limit: int, clock: Callable[[], float], namespace: str, span: float = 60.0
    ) -> SharedLimit:
        if engine is None:
            return SharedLimit(memory, namespace, limit, span=span, clock=clock)
        counts = DatabaseCounts(engine, namespace)
        return SharedLimit(counts, namespace, limit, span=span, clock=clock)

    yield make
    if engine is not None:
        engine.dispose()


def test_take_unless_counts_only_what_no_check_holds_back(
    limits_on_one_store: Callable[..., SharedLimit],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [60_000.0]
    token = limits_on_one_store(3, lambda: now[0], "token:")
    failures = limits_on_one_store(1, lambda: now[0], "auth-failure:")
    unknown = limits_on_one_store(1, lambda: now[0], "unknown-member:", 600.0)
    assert token.take_unless("t", [(failures, "10.0.0.5"), (unknown, "t")]) == [None, None]
    failures.take("10.0.0.5")  # this address has used its one failed login
    unknown.take("t")  # and this token its one unknown member number
    blocked, paused = token.take_unless("t", [(failures, "10.0.0.5"), (unknown, "t")])
    assert blocked == failures.waiting("10.0.0.5") and blocked is not None and blocked > 0
    assert paused == unknown.waiting("t") and paused is not None and paused > 60
    # Held back, "t" was not counted: two more of its three fit, from another address.
    assert token.take_unless("t", [(failures, "10.0.0.6")]) == [None]
    assert token.take_unless("t", [(failures, "10.0.0.6")]) == [None]
    with pytest.raises(RateLimited) as raised:
        token.take_unless("t", [(failures, "10.0.0.6")])
    assert raised.value.retry_after == token.waiting("t")
    with pytest.raises(RateLimited):  # the refused one was not counted either
        token.take("t")
    now[0] += 120.0  # two windows on: all of it forgotten
    assert token.take_unless("t", [(failures, "10.0.0.5")]) == [None]
    if database_url.startswith("postgresql"):  # one statement, where there were three
        engine = cast(DatabaseCounts, token.store).engine
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        # Old windows are swept after a random share of counts: not in the counted call.
        monkeypatch.setattr(limits, "CLEANUP_SHARE", 0.0)
        token.take_unless("t", [(failures, "10.0.0.5"), (unknown, "u")])
        assert len(statements) == 1, statements


def _take_many(url: str, times: int, start: Any, results: Any) -> None:
    engine = create_db_engine(url, pool_size=1)
    clock = lambda: 60_000.0 + 30  # noqa: E731
    limit = SharedLimit(DatabaseCounts(engine, "token:"), "token:", 50, clock=clock)
    failures = SharedLimit(DatabaseCounts(engine, "auth-failure:"), "auth-failure:", 5, clock=clock)
    start.wait()
    passed = 0
    for n in range(times):
        try:
            if n % 2:  # as the guard takes it, with a check beside it
                assert limit.take_unless("one-kiosk", [(failures, "10.0.0.9")]) == [None]
            else:
                limit.take("one-kiosk")
            passed += 1
        except RateLimited:
            pass
    engine.dispose()
    results.put(passed)


def test_processes_share_one_limit(shared_database_url: str) -> None:
    """Four processes (as four workers or instances) take 40 each from one limit of 50."""
    database_url = shared_database_url
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=_take_many, args=(database_url, 40, start, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    start.set()
    passed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sum(passed) == 50, passed  # not 4 x 40, nor 4 x 50


def test_postgresql_counts_in_the_database_and_sqlite_workers_each_take_a_share(
    tmp_path: Path,
) -> None:
    from kiosk.config import BackendSettings

    engine = create_db_engine(f"sqlite:///{tmp_path / 'k.db'}")
    sqlite = "sqlite:///var/kiosk.db"
    one = shared_limit(BackendSettings(database_url=sqlite, workers=1), engine, "t:", 600)
    assert isinstance(one.store, MemoryCounts) and one.limit == 600
    four = shared_limit(BackendSettings(database_url=sqlite, workers=4), engine, "t:", 30)
    assert isinstance(four.store, MemoryCounts) and four.limit == 7  # together never over 30
    for settings in (
        BackendSettings(database_url="postgresql+psycopg://k@db/kiosk", workers=1),
        BackendSettings(database_url=sqlite, shared_limits="database"),
    ):
        limit = shared_limit(settings, engine, "t:", 600)
        assert isinstance(limit.store, DatabaseCounts) and limit.limit == 600, settings
