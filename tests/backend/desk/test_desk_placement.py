"""Where a check-in runs: on the event loop when nothing can make it wait, in a route thread
when a writer holds SQLite (this process's lock, another connection's) or a pending
credential must be waited for; the loop keeps answering meanwhile."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.backend_server import BackendServer, checkin_body

from kiosk.backend.db import (
    CredentialRow,
    VisitRow,
    create_db_engine,
    migrate,
    read_session,
    write_session,
    writer_lock,
)
from kiosk.backend.desk.checkins import CheckinDesk
from kiosk.backend.desk.outcomes import Outcome
from kiosk.backend.desk.placement import DeskPlacement
from kiosk.backend.library.members import MemberRecord, import_members
from kiosk.backend.provisioning.local import LocalProvisioner
from kiosk.config import Settings
from kiosk.protocol import CheckinRequest, MemberStatus

NOW = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    migrate(engine)
    with write_session(engine) as session:
        member = MemberRecord("19000123", "Siti Aminah", MemberStatus.active, None, None)
        import_members(session, [member], replace=False, now=NOW)
    yield engine
    engine.dispose()


class Desk:
    """A local-provisioner desk whose clock notes the thread of every check-in step."""

    def __init__(self, engine: Engine) -> None:
        self.threads: list[int] = []
        settings = Settings().with_overrides(
            backend={"database_url": str(engine.url), "api_tokens": ["desk-test-token-0001"]}
        )
        self.desk = CheckinDesk(engine, settings, LocalProvisioner(), clock=self.clock)
        self.placement = DeskPlacement(self.desk)

    def clock(self) -> dt.datetime:
        self.threads.append(threading.get_ident())
        return NOW

    def check_in(self, ticks: list[float] | None = None) -> Outcome:
        """A check-in through the placement on an event loop in this thread; `ticks` gets
        the times a task beside it ran (the loop was free) while it was answered."""

        async def run() -> Outcome:
            request = CheckinRequest(
                client_ref=uuid.uuid4(),
                card="19000123",
                answers={"purpose": "internet"},
                kiosk_id="kiosk-1",
                occurred_at=NOW,
            )
            answered: dict[str, Outcome] = {}
            async with anyio.create_task_group() as group:

                async def tick() -> None:
                    while "outcome" not in answered:
                        if ticks is not None:
                            ticks.append(time.monotonic())
                        await anyio.sleep(0.02)

                group.start_soon(tick)
                answered["outcome"] = await self.placement.record(request, allow_credential=True)
            return answered["outcome"]

        try:
            return anyio.run(run)
        finally:
            self.placement.close()


def visits(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(VisitRow)) or 0)


def test_a_check_in_with_nothing_to_wait_for_runs_on_the_event_loop(engine: Engine) -> None:
    desk = Desk(engine)
    assert desk.placement.on_loop
    outcome = desk.check_in()
    assert outcome.response.credential is not None
    assert set(desk.threads) == {threading.get_ident()}  # the loop's thread: no hop
    assert visits(engine) == 1


def test_a_writer_of_this_process_sends_the_check_in_to_a_thread(engine: Engine) -> None:
    # A console edit, the purge or reconciliation holds the writer: the check-in waits for
    # it in a route thread, and the loop goes on answering others meanwhile.
    desk = Desk(engine)
    lock = writer_lock(engine)
    assert lock is not None
    held = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    ticks: list[float] = []
    started = time.monotonic()
    outcome = desk.check_in(ticks)
    holder.join()
    assert outcome.response.credential is not None
    assert threading.get_ident() not in desk.threads
    assert time.monotonic() - started >= 0.3  # it did wait for the writer
    assert len([t for t in ticks if t - started < 0.4]) >= 5  # and the loop did not
    assert visits(engine) == 1


def test_another_connection_writing_sends_the_check_in_to_a_thread(
    engine: Engine, tmp_path: Path
) -> None:
    # Another worker or a `kiosk members import` holds SQLite's write lock: the loop's try
    # fails at once (busy timeout 0) and does nothing; a thread waits for the lock.
    other = sqlite3.connect(tmp_path / "kiosk.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, other.rollback).start()
    desk = Desk(engine)
    ticks: list[float] = []
    started = time.monotonic()
    outcome = desk.check_in(ticks)
    other.close()
    assert outcome.response.credential is not None
    assert desk.placement.handed_to_threads == 1
    assert desk.threads[-1] != threading.get_ident()
    assert len([t for t in ticks if t - started < 0.4]) >= 5
    assert visits(engine) == 1  # recorded once: the try on the loop left nothing


def test_a_pending_credential_is_waited_for_in_a_thread(engine: Engine) -> None:
    # A reservation left by a networked provisioner (before a change of [provisioning]):
    # waiting for it sleeps, which the loop must never do.
    with write_session(engine) as session:
        session.add(
            CredentialRow(
                member_id="19000123",
                username="pending01",
                password="secretpass",
                issued_at=NOW,
                expires_at=NOW + dt.timedelta(days=1),
                pending=True,
                kiosk_id="kiosk-0",
            )
        )
    desk = Desk(engine)
    slept_in: list[int] = []

    def confirm_while_waiting(_seconds: float) -> None:
        slept_in.append(threading.get_ident())
        with write_session(engine) as session:
            session.execute(sa.update(CredentialRow).values(pending=False))

    desk.desk.pause = confirm_while_waiting
    outcome = desk.check_in()
    assert slept_in and threading.get_ident() not in slept_in
    credential = outcome.response.credential
    assert credential is not None and credential.username == "pending01" and credential.reused
    assert desk.placement.handed_to_threads == 1


def test_a_networked_desk_never_runs_on_the_loop(engine: Engine) -> None:
    class Router(LocalProvisioner):
        name = "router"
        remote = True

    settings = Settings().with_overrides(
        backend={"database_url": str(engine.url), "api_tokens": ["desk-test-token-0001"]}
    )
    placement = DeskPlacement(CheckinDesk(engine, settings, Router(), clock=lambda: NOW))
    assert not placement.on_loop
    placement.close()


def test_the_server_answers_while_another_process_holds_the_database(tmp_path: Path) -> None:
    # The backend's check-in meets a write lock held elsewhere for 2 s: it answers when the
    # lock is gone, and meanwhile the same server answers health and lookups at once.
    with BackendServer(tmp_path) as server:
        assert server.post("checkins", json=checkin_body()).status_code == 201
        other = sqlite3.connect(server.database_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        answer: dict[str, Any] = {}

        def check_in() -> None:
            answer["response"] = server.post("checkins", json=checkin_body("19000104"))

        sender = threading.Thread(target=check_in)
        sender.start()
        time.sleep(0.3)
        started = time.monotonic()
        health = requests.get(server.url("health"), timeout=5)
        lookup = server.post("members/lookup", json={"card": "19000123"})
        quick = time.monotonic() - started
        assert "response" not in answer  # still waiting for the lock
        other.rollback()
        other.close()
        sender.join(timeout=20)
    assert health.status_code == 200 and lookup.status_code == 200
    assert quick < 1.0, f"the loop was held for {quick:.1f} s"
    assert answer["response"].status_code == 201, answer["response"].text
