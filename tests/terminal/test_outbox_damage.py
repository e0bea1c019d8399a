"""A damaged outbox file (issue 11 item 9): set aside, a fresh one started, logged, shown by
`kiosk doctor`; rows whose body cannot be read are dead letters that staff see."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from kiosk import protocol
from kiosk.config import Settings
from kiosk.terminal.doctor import check_outbox
from kiosk.terminal.outbox import Outbox, open_outbox, set_aside_outboxes

GARBAGE = b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 2048


def visit() -> protocol.VisitRequest:
    return protocol.VisitRequest(
        client_ref=uuid.uuid4(),
        card="19000101",
        kiosk_id="kiosk-1",
        occurred_at=dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC),
    )


def test_a_damaged_outbox_is_set_aside_and_a_fresh_one_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(GARBAGE)
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        outbox = open_outbox(path)
    try:
        good = visit()
        outbox.put(good)
        assert [e.body for e in outbox.due(now=1e12)] == [good]
    finally:
        outbox.close()
    [aside] = set_aside_outboxes(path)
    assert aside.name.startswith("outbox.corrupt-") and aside.name.endswith(".sqlite3")
    assert aside.read_bytes() == GARBAGE  # kept as it was, for whoever looks into it
    assert stat.S_IMODE(aside.stat().st_mode) & 0o077 == 0
    assert any(aside.name in r.getMessage() for r in caplog.records), caplog.text


def test_a_truncated_outbox_is_set_aside_too(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    for _ in range(200):
        outbox.put(visit())
    outbox.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    opened = open_outbox(path)
    try:
        assert opened.pending_count() == 0
    finally:
        opened.close()
    assert len(set_aside_outboxes(path)) == 1


def test_a_sound_outbox_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = Outbox(path)
    first.put(visit())
    first.close()
    again = open_outbox(path)
    try:
        assert again.pending_count() == 1
    finally:
        again.close()
    assert set_aside_outboxes(path) == []


def test_doctor_names_the_set_aside_file(tmp_path: Path) -> None:
    settings = Settings().with_overrides(kiosk={"data_dir": str(tmp_path)})
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(GARBAGE)
    damaged = check_outbox(settings)
    assert not damaged.ok and "damaged" in damaged.detail
    open_outbox(path).close()
    check = check_outbox(settings)
    [aside] = set_aside_outboxes(path)
    assert not check.ok
    assert aside.name in check.detail


def test_unreadable_rows_are_dead_letters_staff_can_see(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        good = visit()
        outbox.put(good)
        outbox._db.execute(
            "INSERT INTO outbox (client_ref, body, created_at, next_try_at)"
            " VALUES ('pending-x', '{', 1, 0)"
        )
        outbox._db.execute(
            "INSERT INTO outbox (client_ref, body, state, created_at, next_try_at)"
            " VALUES ('dead-y', 'not json', 'dead', 2, 0)"
        )
        assert [e.body for e in outbox.due(now=1e12)] == [good]
        dead = {e.client_ref: e for e in outbox.dead_letters()}
        assert set(dead) == {"pending-x", "dead-y"}
        assert dead["pending-x"].body is None and "unreadable" in dead["pending-x"].last_error
        assert dead["dead-y"].body is None
        with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM outbox WHERE state = 'dead'").fetchone() == (2,)
    finally:
        outbox.close()
