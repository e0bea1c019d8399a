"""The kiosk's heartbeat thread reaches the backend and shows on the console's Today page
(outbox depth, dead letters, camera), as do visits at any hour; `kiosk demo-visits` fills
weeks the reports count."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import requests
from support.backend_server import JAKARTA, BackendServer, checkin_body

from kiosk.config import load_settings
from kiosk.protocol import VisitRequest
from kiosk.terminal.client import BackendClient
from kiosk.terminal.heartbeat import HeartbeatSender
from kiosk.terminal.outbox import Outbox

from .conftest import ADMIN, add_account


def signed_in(server: BackendServer) -> requests.Session:
    return server.staff_browser(*ADMIN)


def queued_visit() -> VisitRequest:
    return VisitRequest(
        client_ref=uuid.uuid4(),
        card="19000123",
        kiosk_id="kiosk-uji",
        occurred_at=dt.datetime.now(JAKARTA),
    )


def test_heartbeat_thread_reports_outbox_and_camera(
    tmp_path: Path, console_server: BackendServer
) -> None:
    settings = load_settings(console_server.config_path).kiosk
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.put(queued_visit())
    outbox.put(queued_visit())
    dead = queued_visit()
    outbox.put(dead)
    outbox.mark_dead(str(dead.client_ref), "422 from the backend")
    sender = HeartbeatSender(
        BackendClient(settings), outbox, "kiosk-uji", lambda: None, interval=3600
    )
    sender.start()
    try:
        today = signed_in(console_server)
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while "kiosk-uji" not in (
            page := today.get(f"{console_server.base_url}/staff/", timeout=10).text
        ):
            assert dt.datetime.now() < deadline, "no heartbeat within 10 s"
        row = re.search(r"<tr><td>kiosk-uji.*?</tr>", page, re.S)
        assert row is not None
        cells = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
        assert cells == ["2", "1"]
        assert "tidak ada" in row.group(0)  # no camera
        assert "Kios kiosk-uji punya 1 kunjungan yang gagal terkirim" in page
    finally:
        sender.stop()
        sender.client.close()
        outbox.close()
    assert sender.sent == 1


def test_today_charts_a_visit_outside_opening_hours(tmp_path: Path) -> None:
    # A visit at 00:00 library time (a night event, a kiosk's clock off) is counted on
    # Today, so its hour is on the chart too: the chart showed 06-21 only, and the
    # screenshot run at 04:37 showed "1 members' visits today" over an empty chart.
    with BackendServer(tmp_path / "night") as server:
        add_account(server, *ADMIN, "admin")
        midnight = dt.datetime.combine(dt.datetime.now(JAKARTA).date(), dt.time(), JAKARTA)
        body = checkin_body(want_internet=False, occurred_at=midnight.isoformat())
        assert server.post("visits", json=body).status_code == 201
        page = signed_in(server).get(f"{server.base_url}/staff/", timeout=10).text
    assert "<title>00: 1</title>" in page
    assert "<title>21: 0</title>" in page  # the opening hours stay on it


def test_demo_visits_fill_the_reports(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "demo", start=False) as server:
        out = server.kiosk("demo-visits", "--days", "8").stdout
        count = int(re.search(r"(\d+) visits", out).group(1))  # type: ignore[union-attr]
        assert count > 100
        add_account(server, ADMIN[0], ADMIN[1], "admin")
        server.start()
        today = dt.datetime.now(JAKARTA).date()
        start, end = today - dt.timedelta(days=8), today - dt.timedelta(days=1)
        page = (
            signed_in(server)
            .get(
                f"{server.base_url}/staff/reports?period=custom&start={start}&end={end}", timeout=10
            )
            .text
        )
        assert f'<strong id="report-total">{count}</strong>' in page
