"""Guest and group visits through the kiosk's client and outbox against the real backend."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

from support.backend_server import BackendServer

from kiosk import protocol
from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient, BackendRejected, BackendUnreachable
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.outbox_sender import OutboxSender


def settings_for(server: BackendServer) -> KioskSettings:
    return KioskSettings(
        backend_url=server.base_url,
        api_token=server.token,
        kiosk_id="kiosk-test",
        connect_timeout=1.0,
        read_timeout=5.0,
    )


def guest(name: str, group_size: int = 1, *, internet: bool = False) -> protocol.GuestVisitRequest:
    return protocol.GuestVisitRequest(
        client_ref=uuid.uuid4(),
        name=name,
        institution="Universitas Sumatera Utara",
        answers={"purpose": "penelitian", "gender": "laki_laki"},
        want_internet=internet,
        kiosk_id="kiosk-test",
        occurred_at=dt.datetime.now(dt.UTC),
        group_size=group_size,
    )


def guest_refs(server: BackendServer) -> list[str]:
    with sqlite3.connect(server.database_path) as db:
        return [row[0] for row in db.execute("SELECT client_ref FROM guest_visits")]


def test_guest_visits_queued_offline_arrive_once(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "b", guests={"internet": "voucher"}) as backend:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        client = BackendClient(settings_for(backend))
        backend.stop()
        requests = [guest("Andi Pratama"), guest("Bu Rina", 28), guest("Ahmad", internet=True)]
        for request in requests:
            try:
                client.send_guest_visit(request)
            except BackendUnreachable:
                outbox.put(request)
        member = protocol.VisitRequest(
            client_ref=uuid.uuid4(),
            card="19000101",
            kiosk_id="kiosk-test",
            occurred_at=dt.datetime.now(dt.UTC),
        )
        outbox.put(member)
        assert outbox.pending_count() == 4
        kept = {e.client_ref: e.body for e in outbox.due(float("inf"))}
        assert isinstance(kept[str(requests[1].client_ref)], protocol.GuestVisitRequest)
        assert isinstance(kept[str(member.client_ref)], protocol.VisitRequest)
        backend.start()
        assert OutboxSender(outbox, client).send_due() == 4
        assert outbox.pending_count() == 0 and outbox.dead_letters() == []
        assert sorted(guest_refs(backend)) == sorted(str(r.client_ref) for r in requests)
        # Sent again (a crash before mark_sent): replays, nothing counted twice.
        for request in requests:
            outbox.put(request)
        assert OutboxSender(outbox, client).send_due() == 3
        assert len(guest_refs(backend)) == 3
        stats = client.stats_today()
        assert (stats.guests, stats.groups) == (1 + 28 + 1, 1)
        client.close()
        outbox.close()


def test_a_refused_guest_internet_is_a_clear_answer(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "b") as backend, BackendClient(settings_for(backend)) as client:
        request = guest("Andi Pratama", internet=True)
        try:
            client.send_guest_visit(request)
        except BackendRejected as exc:
            assert (exc.status, exc.code) == (403, "guest_internet_unavailable")
        else:
            raise AssertionError("guest internet should be refused by default")
        answer = client.send_guest_visit(request.model_copy(update={"want_internet": False}))
        assert answer.credential is None and answer.visit.name == "Andi Pratama"


def test_surveys_wait_in_the_outbox_while_the_backend_is_down_and_arrive_once(
    tmp_path: Path,
) -> None:
    with BackendServer(tmp_path / "b") as backend:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        client = BackendClient(settings_for(backend))
        backend.stop()
        survey = protocol.SatisfactionRequest(
            client_ref=uuid.uuid4(),
            kiosk_id="kiosk-test",
            occurred_at=dt.datetime.now(dt.UTC),
            answers={"u1": 4, "u2": 3, "u9": 1},
            profile={"occupation": "pelajar"},
        )
        outbox.put(survey)
        [kept] = outbox.due(float("inf"))
        assert kept.body == survey
        assert OutboxSender(outbox, client).send_due() == 0  # still down: kept
        assert outbox.pending_count() == 1
        backend.start()
        [kept] = outbox.due(float("inf"))
        # The backend is back (as the kiosk learns from its next good call): the entry waiting
        # out its backoff goes now, whatever the backoff's length and the machine's speed.
        sender = OutboxSender(outbox, client)
        sender.wake()
        assert sender.send_due() == 1
        outbox.put(survey)  # sent again after a crash before mark_sent: a replay
        assert OutboxSender(outbox, client).send_due() == 1
        with sqlite3.connect(backend.database_path) as db:
            rows = db.execute("SELECT u1, u2, u3, u9, occupation FROM satisfaction").fetchall()
        assert rows == [(4, 3, None, 1, "pelajar")]
        assert outbox.pending_count() == 0 and outbox.dead_letters() == []
        client.close()
        outbox.close()
