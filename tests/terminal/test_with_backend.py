"""The client and the outbox against the real backend (a subprocess on loopback, demo members).

Nothing lost, nothing recorded twice: checked in the backend's own database by client_ref.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.backend_server import BackendServer

from kiosk import protocol
from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient, BackendRejected, BackendUnreachable
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.outbox_sender import OutboxSender

REPO = Path(__file__).resolve().parents[2]
SENDER_SCRIPT = Path(__file__).with_name("outbox_sender_process.py")
ANSWERS = {"purpose": "membaca", "occupation": "mahasiswa", "education": "s1"}

ACTIVE = "19000101"
EXPIRED = "19000108"
BLOCKED = "19000125"
UNKNOWN = "19000999"


def settings_for(server: BackendServer, **overrides: object) -> KioskSettings:
    values: dict[str, object] = {
        "backend_url": server.base_url,
        "api_token": server.token,
        "kiosk_id": "kiosk-test",
        "connect_timeout": 1.0,
        "read_timeout": 5.0,
    }
    values.update(overrides)
    return KioskSettings(**values)  # type: ignore[arg-type]


def checkin(card: str, *, want_internet: bool = True) -> protocol.CheckinRequest:
    return protocol.CheckinRequest(
        client_ref=uuid.uuid4(),
        card=card,
        answers=ANSWERS,
        want_internet=want_internet,
        kiosk_id="kiosk-test",
        occurred_at=dt.datetime.now(dt.UTC),
    )


def as_visit(request: protocol.CheckinRequest) -> protocol.VisitRequest:
    """What the flow puts in the outbox when a check-in cannot reach the backend: the same
    body, so a check-in the backend did record is a replay, not a conflict."""
    return protocol.VisitRequest.model_validate(request.model_dump())


def recorded_refs(server: BackendServer) -> list[str]:
    """Every client_ref in the backend's visits table, duplicates included."""
    with sqlite3.connect(server.database_path) as db:
        return [row[0] for row in db.execute("SELECT client_ref FROM visits")]


@pytest.fixture(scope="module")
def shared_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    """One backend for the tests that only talk to it."""
    with BackendServer(tmp_path_factory.mktemp("backend")) as server:
        yield server


@pytest.fixture
def client(shared_backend: BackendServer) -> Iterator[BackendClient]:
    with BackendClient(settings_for(shared_backend)) as c:
        yield c


# --------------------------------------------------------------------- client


def test_health_of_the_real_backend(client: BackendClient) -> None:
    health = client.health()
    assert health.ok and health.version, health


def test_lookup_finds_a_demo_member_by_card(client: BackendClient) -> None:
    answer = client.lookup(f"A{ACTIVE}B")
    assert answer.member.id == ACTIVE and answer.member.name == "Rahmat Hidayat"
    assert answer.member.status is protocol.MemberStatus.active


def test_lookup_of_an_unknown_card_is_member_not_found(client: BackendClient) -> None:
    with pytest.raises(BackendRejected) as caught:
        client.lookup(UNKNOWN)
    assert (caught.value.status, caught.value.code) == (404, "member_not_found")


def test_checkin_gives_a_credential_and_a_replay_gives_the_same(client: BackendClient) -> None:
    request = checkin("19000102")
    first = client.checkin(request)
    assert first.credential is not None and first.visit.client_ref == request.client_ref
    again = client.checkin(request)
    assert again.credential == first.credential
    assert client.lookup("19000102").last_answers == ANSWERS


@pytest.mark.parametrize(
    ("card", "code"), [(EXPIRED, "member_expired"), (BLOCKED, "member_blocked")]
)
def test_expired_and_blocked_members_get_no_credential(
    client: BackendClient, card: str, code: str
) -> None:
    with pytest.raises(BackendRejected) as caught:
        client.checkin(checkin(card))
    assert (caught.value.status, caught.value.code) == (403, code)


def test_a_wrong_token_is_rejected_as_unauthorized(shared_backend: BackendServer) -> None:
    settings = settings_for(shared_backend, api_token="not-the-token-at-all-0000")
    with BackendClient(settings) as client, pytest.raises(BackendRejected) as caught:
        client.lookup(ACTIVE)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")


def test_stats_today_counts_todays_visits(client: BackendClient) -> None:
    before = client.stats_today().visits
    client.checkin(checkin("19000103", want_internet=False))
    assert client.stats_today().visits == before + 1


def test_a_paused_backend_is_unreachable_within_the_read_timeout(
    backend_server: BackendServer,
) -> None:
    backend_server.pause()
    started = time.monotonic()
    with BackendClient(settings_for(backend_server, read_timeout=0.5)) as client:
        with pytest.raises(BackendUnreachable) as caught:
            client.checkin(checkin(ACTIVE))
        assert not client.health().ok
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 5.0


# --------------------------------------------------------------------- outbox


def test_visits_queued_while_the_backend_is_stopped_arrive_once_after_it_returns(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    client = BackendClient(settings_for(backend_server))
    counts: list[int] = []
    changed = threading.Condition()

    def on_change(count: int) -> None:
        with changed:
            counts.append(count)
            changed.notify_all()

    sender = OutboxSender(outbox, client, interval=60.0, base_delay=60.0, on_change=on_change)
    backend_server.stop()
    requests = [checkin(card) for card in (ACTIVE, "19000104", EXPIRED, BLOCKED, ACTIVE)]
    for request in requests:
        with pytest.raises(BackendUnreachable):
            client.checkin(request)
        outbox.put(as_visit(request))
    sender.start()
    try:
        with changed:  # the first pass finds the backend down and keeps everything
            assert changed.wait_for(lambda: counts and counts[-1] == 5, 10), counts
        assert recorded_refs(backend_server) == []
        backend_server.start()
        sender.wake()  # what the flow does when it reaches the backend again
        with changed:
            assert changed.wait_for(lambda: counts[-1] == 0, 20), counts
    finally:
        sender.stop()
    assert sorted(recorded_refs(backend_server)) == sorted(str(r.client_ref) for r in requests)
    assert outbox.dead_letters() == [], "a visit is a visit, whatever the member's status"
    # Sending them all again (a crash before mark_sent) records nothing new.
    for request in requests:
        outbox.put(as_visit(request))
    assert OutboxSender(outbox, client).send_due() == 5
    assert len(recorded_refs(backend_server)) == 5
    client.close()
    outbox.close()


def test_a_checkin_whose_answer_was_lost_is_recorded_once_via_the_outbox(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    request = checkin(ACTIVE)
    backend_server.pause()
    with BackendClient(settings_for(backend_server, read_timeout=0.5)) as client:
        with pytest.raises(BackendUnreachable):
            client.checkin(request)  # sent, but the answer never came
        outbox.put(as_visit(request))
        backend_server.resume()  # the backend now records the check-in it had received
        sender = OutboxSender(outbox, client, base_delay=0.1, max_delay=0.2)
        deadline = time.monotonic() + 20
        while outbox.pending_count() and time.monotonic() < deadline:
            sender.wake()
            sender.send_due()
            if outbox.pending_count():
                time.sleep(0.1)  # backoff after a lost race with the resumed request
    assert outbox.pending_count() == 0 and outbox.dead_letters() == []
    assert recorded_refs(backend_server) == [str(request.client_ref)]
    outbox.close()


def test_a_refused_visit_goes_to_dead_letters_not_lost(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    unknown = as_visit(checkin(UNKNOWN))
    good = as_visit(checkin(ACTIVE))
    # Same client_ref as `good`, another body: the backend answers 409.
    conflicting = good.model_copy(update={"answers": {"purpose": "lainnya"}})
    outbox.put(unknown, now=1.0)
    outbox.put(good, now=2.0)
    with BackendClient(settings_for(backend_server)) as client:
        sender = OutboxSender(outbox, client)
        assert sender.send_due() == 1
        outbox.put(conflicting)
        assert sender.send_due() == 0
    letters = {e.client_ref: e for e in outbox.dead_letters()}
    assert letters[str(unknown.client_ref)].last_error.startswith("404 member_not_found")
    assert letters[str(good.client_ref)].last_error.startswith("409 client_ref_conflict")
    assert letters[str(good.client_ref)].body == conflicting
    assert outbox.pending_count() == 0
    assert recorded_refs(backend_server) == [str(good.client_ref)]
    outbox.close()


def _request_waiting_in_server_socket(port: int) -> bool:
    """Whether some established connection to `port` holds unread bytes (ss Recv-Q)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return any(int(line.split()[0]) > 0 for line in out.splitlines() if line.split())


def test_a_kiosk_killed_mid_send_loses_nothing_and_duplicates_nothing(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    outbox_path = tmp_path / "outbox.sqlite"
    outbox = Outbox(outbox_path)
    visits = [as_visit(checkin(card)) for card in (ACTIVE, "19000104", "19000105", EXPIRED)]
    for i, visit in enumerate(visits):
        outbox.put(visit, now=1000.0 + i)
    backend_server.pause()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    kiosk = subprocess.Popen(
        [
            sys.executable,
            str(SENDER_SCRIPT),
            str(outbox_path),
            backend_server.base_url,
            backend_server.token,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert kiosk.stdout is not None
        line = kiosk.stdout.readline().strip()
        assert line == f"sending {visits[0].client_ref}", line
        # Kill it when the request is in the backend's socket: the backend will record a
        # visit whose answer the kiosk never sees (the worst moment to die).
        deadline = time.monotonic() + 10
        while not _request_waiting_in_server_socket(backend_server.port):
            assert time.monotonic() < deadline, "request never reached the backend socket"
            time.sleep(0.02)  # polling kernel state: there is no event to await
        os.kill(kiosk.pid, signal.SIGKILL)
        assert kiosk.wait(10) == -signal.SIGKILL
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait(10)
        kiosk.stdout.close()  # type: ignore[union-attr]
    backend_server.resume()
    assert outbox.pending_count() == 4, "nothing was marked sent"
    # The kiosk restarts: a fresh sender on the same file.
    restarted = Outbox(outbox_path)
    with BackendClient(settings_for(backend_server)) as client:
        sender = OutboxSender(restarted, client, base_delay=0.1, max_delay=0.2)
        deadline = time.monotonic() + 20
        while restarted.pending_count() and time.monotonic() < deadline:
            sender.wake()
            sender.send_due()
            if restarted.pending_count():
                time.sleep(0.1)  # backoff after a lost race with the orphaned request
    assert restarted.pending_count() == 0 and restarted.dead_letters() == []
    refs = recorded_refs(backend_server)
    assert sorted(refs) == sorted(str(v.client_ref) for v in visits)
    restarted.close()
    outbox.close()
