"""Two backend instances on one PostgreSQL behave as one backend (issue 14): one credential
per member across both, a replay answered the same by the other, the rate limit over the
sum, and an instance SIGKILLed mid-burst loses nothing it answered 2xx."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from support.backend_server import BackendServer, checkin_body
from support.postgres_server import PostgreSQL, plain_url

CONCURRENT = 20


@pytest.fixture
def database(postgresql: PostgreSQL) -> str:
    return postgresql.new_database("two")


@pytest.fixture
def pair(database: str, tmp_path: Path) -> Iterator[tuple[BackendServer, BackendServer]]:
    config = {"database_url": database}
    with BackendServer(tmp_path / "a", backend=config) as first:
        with BackendServer(tmp_path / "b", members_csv=None, backend=config) as second:
            yield first, second


def rows(database: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(plain_url(database)) as connection:
        return connection.execute(sql).fetchall()  # type: ignore[arg-type]


def spread(servers: tuple[BackendServer, ...], path: str, bodies: list[Any]) -> list[Any]:
    """Send every body at once, alternating the instances (each thread connected first)."""
    barrier = threading.Barrier(len(bodies))

    def send(n: int) -> requests.Response:
        server = servers[n % len(servers)]
        session = requests.Session()
        session.get(server.url("health"), timeout=10)
        barrier.wait(timeout=30)
        return session.post(server.url(path), json=bodies[n], headers=server.headers, timeout=30)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, range(len(bodies))))


def test_concurrent_checkins_over_both_make_one_credential(
    pair: tuple[BackendServer, BackendServer], database: str
) -> None:
    answers = spread(pair, "checkins", [checkin_body("19000101") for _ in range(CONCURRENT)])
    assert [a.status_code for a in answers] == [201] * CONCURRENT, answers[0].text
    usernames = {a.json()["credential"]["username"] for a in answers}
    assert len(usernames) == 1
    assert rows(database, "SELECT count(*) FROM credentials WHERE member_id = '19000101'") == [(1,)]
    assert rows(database, "SELECT count(*) FROM visits WHERE member_id = '19000101'") == [
        (CONCURRENT,)
    ]


def test_a_replay_sent_to_the_other_instance_returns_the_first_answer(
    pair: tuple[BackendServer, BackendServer], database: str
) -> None:
    first, second = pair
    body = checkin_body("19000102")
    answer = first.post("checkins", json=body)
    assert answer.status_code == 201
    replay = second.post("checkins", json=body)
    assert replay.status_code == 200 and replay.json() == answer.json()
    conflict = second.post("checkins", json={**body, "card": "19000103"})
    assert conflict.json()["error"]["code"] == "client_ref_conflict"
    assert rows(database, "SELECT count(*) FROM visits WHERE member_id = '19000102'") == [(1,)]


def test_the_rate_limit_holds_over_the_sum(database: str, tmp_path: Path) -> None:
    config = {"database_url": database, "rate_limit_per_minute": 20}
    with (
        BackendServer(tmp_path / "a", backend=config) as first,
        BackendServer(tmp_path / "b", members_csv=None, backend=config) as second,
    ):
        codes = [(first, second)[n % 2].get("stats/today").status_code for n in range(40)]
    assert codes.count(200) == 20 and codes[20:] == [429] * 20, codes


def test_an_instance_killed_mid_burst_loses_nothing_it_answered(
    pair: tuple[BackendServer, BackendServer], database: str
) -> None:
    first, second = pair
    bodies = [checkin_body(f"190001{n % 20 + 1:02d}", want_internet=n % 3 == 0) for n in range(300)]
    answered: dict[str, int] = {}
    lock = threading.Lock()
    started = threading.Event()

    def send(n: int) -> None:
        server = (first, second)[n % 2]
        started.set()
        try:
            status = server.post("visits" if n % 3 else "checkins", json=bodies[n]).status_code
        except requests.RequestException:
            status = 0  # the connection died with the instance
        with lock:
            answered[bodies[n]["client_ref"]] = status

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(send, n) for n in range(len(bodies))]
        started.wait(10)
        while sum(1 for f in futures if f.done()) < 60:
            threading.Event().wait(0.01)
        first.kill()  # SIGKILL in the middle of the burst
        for future in futures:
            future.result()
    ok = {ref for ref, status in answered.items() if 200 <= status < 300}
    lost = {ref for ref, status in answered.items() if status == 0 or status >= 500}
    assert lost, "the kill came too late to catch requests in flight"
    stored = {ref for (ref,) in rows(database, "SELECT client_ref FROM visits")}
    assert ok <= stored, f"answered 2xx but not stored: {sorted(ok - stored)[:5]}"
    # The kiosks' outboxes send the rest again, to the instance still up: each lands once
    # (an expired or blocked member's check-in is refused 403 and records nothing).
    for body in bodies:
        if body["client_ref"] in lost:
            path = "checkins" if body["want_internet"] else "visits"
            answer = second.post(path, json=body)
            assert answer.status_code in (200, 201, 403), answer.text
            answered[body["client_ref"]] = answer.status_code
    recorded = {ref for ref, status in answered.items() if 200 <= status < 300}
    counted = rows(database, "SELECT count(*), count(DISTINCT client_ref) FROM visits")
    assert counted == [(len(recorded), len(recorded))]
    per_member = rows(
        database,
        "SELECT member_id, count(*) FROM credentials WHERE NOT revoked GROUP BY member_id "
        "HAVING count(*) > 1",
    )
    assert per_member == []
