"""The outbox: durable SQLite queue of visits, and its sender against loopback HTTP servers."""

from __future__ import annotations

import datetime as dt
import json
import random
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiosk import protocol
from kiosk.terminal.client import BackendClient
from kiosk.terminal.outbox import Outbox, OutboxFull
from kiosk.terminal.outbox_sender import OutboxSender, backoff_delay

if TYPE_CHECKING:  # the fixtures' types, from this directory's conftest.py
    from conftest import FaultHTTPServer, Handler

MakeClient = Callable[..., BackendClient]
WIB = dt.timezone(dt.timedelta(hours=7))


def visit(card: str = "19000101", minute: int = 0) -> protocol.VisitRequest:
    return protocol.VisitRequest(
        client_ref=uuid.uuid4(),
        card=card,
        answers={"purpose": "membaca", "occupation": "pelajar"},
        want_internet=True,
        kiosk_id="kiosk-test",
        occurred_at=dt.datetime(2026, 11, 28, 9, minute, tzinfo=WIB),
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    yield box
    box.close()


# ------------------------------------------------------------------- storage


def test_a_stored_visit_comes_back_unchanged(outbox: Outbox) -> None:
    entry = visit()
    outbox.put(entry, now=100.0)
    (due,) = outbox.due(now=100.0)
    assert due.body == entry
    assert due.client_ref == str(entry.client_ref)
    assert (due.attempts, due.last_error, due.created_at) == (0, "", 100.0)
    assert outbox.pending_count() == 1


def test_a_birth_date_never_reaches_the_outbox_file(tmp_path: Path) -> None:
    entry = visit().model_copy(
        update={
            "entry": "typed",
            "verification": protocol.Verification(birth_date=dt.date(2004, 8, 17)),
        }
    )
    box = Outbox(tmp_path / "outbox.sqlite")
    box.put(entry, now=100.0)
    (due,) = box.due(now=100.0)
    box.close()
    assert due.body is not None and due.body.verification is None
    assert due.body.entry == "typed" and due.body.client_ref == entry.client_ref
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"2004-08-17" not in on_disk and b"2004" not in on_disk


def test_putting_the_same_client_ref_twice_keeps_one_entry(outbox: Outbox) -> None:
    entry = visit()
    outbox.put(entry)
    outbox.put(entry)
    outbox.put(entry.model_copy(update={"answers": {"purpose": "lainnya"}}))
    assert outbox.pending_count() == 1
    assert outbox.due(now=1e12)[0].body.answers == entry.answers, "the first body is kept"


def test_due_gives_oldest_first_within_the_limit(outbox: Outbox) -> None:
    entries = [visit(minute=i) for i in range(5)]
    for i, entry in enumerate(entries):
        outbox.put(entry, now=100.0 + i)
    assert [e.body for e in outbox.due(now=102.0)] == entries[:3]
    assert [e.body for e in outbox.due(now=200.0, limit=2)] == entries[:2]


def test_retry_later_counts_the_attempt_and_waits(outbox: Outbox) -> None:
    entry = visit()
    outbox.put(entry, now=100.0)
    outbox.retry_later(str(entry.client_ref), "no answer within 8 s", 30.0, now=100.0)
    assert outbox.due(now=129.0) == []
    (due,) = outbox.due(now=130.0)
    assert (due.attempts, due.last_error) == (1, "no answer within 8 s")
    assert outbox.pending_count() == 1
    assert outbox.next_try_at() == 130.0


def test_a_sent_visit_leaves_the_outbox(outbox: Outbox) -> None:
    entry = visit()
    outbox.put(entry)
    outbox.mark_sent(str(entry.client_ref))
    assert outbox.pending_count() == 0 and outbox.due(now=1e12) == []
    assert outbox.next_try_at() is None


def test_a_dead_letter_is_kept_but_never_sent_again(outbox: Outbox) -> None:
    dead, alive = visit(), visit()
    outbox.put(dead)
    outbox.put(alive)
    outbox.mark_dead(str(dead.client_ref), "404 member_not_found: no member 19000999")
    assert [e.body for e in outbox.due(now=1e12)] == [alive]
    assert outbox.pending_count() == 1
    (letter,) = outbox.dead_letters()
    assert letter.body == dead and letter.last_error.startswith("404 member_not_found")
    outbox.retry_later(str(dead.client_ref), "late", 0.0)
    assert outbox.due(now=1e12)[0].body == alive, "a dead letter does not come back to life"


def test_entries_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    first = Outbox(path)
    entries = [visit(minute=i) for i in range(3)]
    for entry in entries:
        first.put(entry)
    first.mark_dead(str(entries[2].client_ref), "409 client_ref_conflict")
    first.close()
    again = Outbox(path)
    assert [e.body for e in again.due(now=1e12)] == entries[:2]
    assert [e.body for e in again.dead_letters()] == entries[2:]
    again.close()


def test_a_visit_is_on_disk_when_put_returns(tmp_path: Path) -> None:
    """A process killed with SIGKILL right after put() returned has lost nothing."""
    path = tmp_path / "outbox.sqlite"
    entry = visit()
    script = (
        "import sys, os, signal\n"
        "from kiosk.terminal.outbox import Outbox\n"
        "from kiosk.protocol import VisitRequest\n"
        "Outbox(sys.argv[1]).put(VisitRequest.model_validate_json(sys.argv[2]))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), entry.model_dump_json()], timeout=60
    )
    assert done.returncode == -9
    reopened = Outbox(path)
    assert [e.body for e in reopened.due(now=1e12)] == [entry]
    reopened.close()


def test_the_outbox_file_is_in_wal_mode_with_full_sync_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outbox.sqlite"
    box = Outbox(path)
    box.put(visit())
    mode = box._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = box._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    box.close()


def test_a_full_disk_is_a_clear_error_and_keeps_what_was_stored(outbox: Outbox) -> None:
    kept = visit()
    outbox.put(kept)
    # Cap the file at its current size: the next insert meets SQLITE_FULL, as on a full disk.
    pages = outbox._db.execute("PRAGMA page_count").fetchone()[0]
    outbox._db.execute(f"PRAGMA max_page_count={pages}")
    big = visit().model_copy(update={"answers": {f"k{i}": "x" * 500 for i in range(30)}})
    with pytest.raises(OutboxFull, match="disk full.*not stored"):
        outbox.put(big)
    assert [e.body for e in outbox.due(now=1e12)] == [kept]


def test_many_threads_can_put_at_once(outbox: Outbox) -> None:
    def worker() -> None:
        for _ in range(25):
            outbox.put(visit())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outbox.pending_count() == 200


def test_a_damaged_entry_becomes_a_dead_letter_not_a_crash(outbox: Outbox) -> None:
    good = visit()
    outbox.put(good)
    outbox._db.execute(
        "INSERT INTO outbox (client_ref, body, created_at, next_try_at) VALUES ('x', '{', 0, 0)"
    )
    assert [e.body for e in outbox.due(now=1e12)] == [good]
    assert outbox.pending_count() == 1


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    rng = random.Random(4)
    delays = [backoff_delay(n, base=2.0, cap=60.0, rng=rng) for n in range(1, 10)]
    assert 1.0 <= delays[0] <= 2.0
    assert 4.0 <= delays[2] <= 8.0
    assert all(30.0 <= d <= 60.0 for d in delays[5:])
    assert len(set(delays)) == len(delays), "jittered"


# --------------------------------------------------------------------- sender


def visit_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The VisitResponse a backend gives for a /visits body."""
    return {
        "visit": {
            "client_ref": body["client_ref"],
            "member_id": body["card"],
            "kiosk_id": body["kiosk_id"],
            "occurred_at": body["occurred_at"],
            "received_at": body["occurred_at"],
            "answers": body["answers"],
            "want_internet": body["want_internet"],
        }
    }


def visits_backend(server: FaultHTTPServer) -> list[str]:
    """Make the fault server a tiny backend for POST /visits: 201 first, 200 replays."""
    recorded: list[str] = []

    def record(handler: Handler) -> None:
        body = json.loads(handler.received_body)
        replay = body["client_ref"] in recorded
        if not replay:
            recorded.append(body["client_ref"])
        handler.send_json(200 if replay else 201, visit_answer(body))

    server.on("POST", "/visits", record)
    return recorded


def test_sender_sends_every_due_visit_with_its_client_ref(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    recorded = visits_backend(fault_server)
    entries = [visit(minute=i) for i in range(25)]  # more than one batch
    for entry in entries:
        outbox.put(entry)
    sender = OutboxSender(outbox, client_for(fault_server.url))
    assert sender.send_due() == 25
    assert recorded == [str(e.client_ref) for e in entries]
    assert outbox.pending_count() == 0
    bodies = [c.json() for c in fault_server.calls("POST", "/visits")]
    assert bodies[0] == json.loads(entries[0].model_dump_json()), "the original body"


def test_sender_keeps_visits_while_the_backend_is_unreachable(
    outbox: Outbox, refused_url: str, client_for: MakeClient
) -> None:
    for _ in range(3):
        outbox.put(visit())
    sender = OutboxSender(outbox, client_for(refused_url), base_delay=30.0)
    assert sender.send_due() == 0
    assert outbox.pending_count() == 3
    # One probe per pause, not one failure per entry.
    attempts = sorted(e.attempts for e in outbox.due(now=1e12))
    assert attempts == [0, 0, 1]
    assert sender.send_due() == 0, "paused: no second try before the backoff"
    assert sorted(e.attempts for e in outbox.due(now=1e12)) == [0, 0, 1]


def test_wake_ends_the_pause_at_once(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "POST", "/visits", lambda h: h.send_raw(502, b"bad gateway", content_type="text/plain")
    )
    entry = visit()
    outbox.put(entry)
    sender = OutboxSender(outbox, client_for(fault_server.url), base_delay=600.0)
    assert sender.send_due() == 0
    recorded = visits_backend(fault_server)
    sender.wake()
    outbox.retry_later(str(entry.client_ref), "staff pressed send now", 0.0)
    assert sender.send_due() == 1
    assert recorded == [str(entry.client_ref)]


def test_sender_honours_429_retry_after(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "POST",
        "/visits",
        lambda h: h.send_json(
            429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "45"}
        ),
    )
    first, second = visit(minute=1), visit(minute=2)
    outbox.put(first, now=1.0)
    outbox.put(second, now=2.0)
    sender = OutboxSender(outbox, client_for(fault_server.url))
    assert sender.send_due() == 0
    assert len(fault_server.calls("POST", "/visits")) == 1, "no other entry tried meanwhile"
    (limited,) = [e for e in outbox.due(now=1e12) if e.body == first]
    assert limited.attempts == 1 and limited.last_error == "rate limited"
    assert limited.next_try_at - time.time() > 40.0
    assert [e.body for e in outbox.due(now=time.time())] == [second], "untouched, still due"
    assert sender.send_due() == 0, "the whole sender waits out Retry-After"
    assert len(fault_server.calls("POST", "/visits")) == 1


def test_a_4xx_refusal_goes_to_dead_letters_and_the_rest_still_go(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    recorded: list[str] = []

    def backend(handler: Handler) -> None:
        body = json.loads(handler.received_body)
        if body["card"] == "99999999":
            handler.send_json(
                404, {"error": {"code": "member_not_found", "message": "no member 99999999"}}
            )
            return
        recorded.append(body["client_ref"])
        handler.send_json(201, visit_answer(body))

    fault_server.on("POST", "/visits", backend)
    good1, bad, good2 = visit(minute=1), visit("99999999", minute=2), visit(minute=3)
    for i, entry in enumerate((good1, bad, good2)):
        outbox.put(entry, now=float(i))
    sender = OutboxSender(outbox, client_for(fault_server.url))
    assert sender.send_due() == 2
    assert recorded == [str(good1.client_ref), str(good2.client_ref)]
    (letter,) = outbox.dead_letters()
    assert letter.body == bad and letter.last_error == "404 member_not_found: no member 99999999"
    assert outbox.pending_count() == 0 and sender.dead == 1


def test_a_wrong_token_keeps_visits_waiting_instead_of_killing_them(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "POST",
        "/visits",
        lambda h: h.send_json(401, {"error": {"code": "unauthorized", "message": "bad token"}}),
    )
    outbox.put(visit())
    sender = OutboxSender(outbox, client_for(fault_server.url))
    assert sender.send_due() == 0
    assert outbox.pending_count() == 1 and outbox.dead_letters() == []


def test_background_sender_delivers_and_reports_the_count(
    outbox: Outbox, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    recorded = visits_backend(fault_server)
    (record,) = fault_server.routes[("POST", "/api/v1/visits")]
    counts: list[int] = []
    changed = threading.Condition()

    def on_change(count: int) -> None:
        with changed:
            counts.append(count)
            changed.notify_all()

    entries = [visit(minute=i) for i in range(3)]
    for entry in entries[:2]:
        outbox.put(entry)
    sender = OutboxSender(outbox, client_for(fault_server.url), interval=60.0, on_change=on_change)
    sender.start()
    try:
        with changed:
            assert changed.wait_for(lambda: counts == [0], 10), counts
        third_arrived = threading.Event()
        fault_server.on("POST", "/visits", lambda h: (record(h), third_arrived.set()))
        outbox.put(entries[2])
        sender.wake()  # "send queued visits now": no waiting for the 60 s interval
        assert third_arrived.wait(10)
    finally:
        sender.stop()
    assert sorted(recorded) == sorted(str(e.client_ref) for e in entries)


def test_stop_returns_promptly_while_the_backend_never_answers(
    outbox: Outbox, silent_socket: str, client_for: MakeClient
) -> None:
    outbox.put(visit())
    sender = OutboxSender(outbox, client_for(silent_socket, read_timeout=0.3))
    sender.start()
    thread = sender._thread
    assert thread is not None
    started = time.monotonic()
    sender.stop(timeout=5.0)
    # Within the call's own read timeout (and its bounded retry), far below stop()'s 5 s.
    assert time.monotonic() - started < 3.0
    assert not thread.is_alive()
    assert outbox.pending_count() == 1
