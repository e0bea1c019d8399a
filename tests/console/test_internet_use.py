"""The whole path of issue 25 with the real parts: a check-in through the real backend, Debian's
FreeRADIUS run from the written configuration and asked by radclient (the policy's Accept,
Accounting Start, a second device refused, the day's minutes spent and refused), a revoke in the
console, the Disconnect-Request at a stand-in NAS, then the Internet use page in Chromium."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer, checkin_body
from support.coa_nas import SECRET, StandInNas
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

from .conftest import ARTIFACTS, STAFF, add_account
from .test_accessibility import violations_of

RADIUS_TZ = "Asia/Jakarta"
MEMBER_POLICY = {
    "daily_minutes": 2,
    "devices": 1,
    "download_kbps": 2048,
    "upload_kbps": 1024,
    "idle_minutes": 15,
}
PHONE, LAPTOP = "AA-BB-CC-25-00-01", "AA-BB-CC-25-00-02"


class Radclient:
    """Debian's radclient (freeradius-utils) as the hotspot: Access and Accounting requests."""

    def __init__(self, server: FreeRadiusServer) -> None:
        self.server = server

    def send(self, kind: str, port: int, **attributes: str | int) -> tuple[str, str]:
        """(the answer's name, radclient's output) for one request of `attributes`."""
        quoted = {k: f'"{v}"' if isinstance(v, str) else str(v) for k, v in attributes.items()}
        text = "".join(f"{name.replace('_', '-')} = {value}\n" for name, value in quoted.items())
        result = subprocess.run(
            ["radclient", "-x", "-r", "1", "-t", "5", f"127.0.0.1:{port}", kind,
             self.server.secret],
            input=text, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        found = re.search(
            r"Received (Access-Accept|Access-Reject|Accounting-Response)", result.stdout
        )
        assert found, result.stdout + result.stderr + self.server.log_tail()
        return found.group(1), result.stdout

    def login(self, username: str, password: str, mac: str) -> tuple[str, str]:
        return self.send(
            "auth", self.server.auth_port, User_Name=username, User_Password=password,
            NAS_IP_Address="127.0.0.1", Calling_Station_Id=mac,
        )  # fmt: skip

    def account(self, username: str, status: str, session: str, mac: str, seconds: int) -> None:
        answer, _ = self.send(
            "acct", self.server.acct_port, User_Name=username, Acct_Status_Type=status,
            Acct_Session_Id=session, Acct_Session_Time=seconds, NAS_IP_Address="127.0.0.1",
            Calling_Station_Id=mac, Framed_IP_Address="10.5.50.23",
            Acct_Input_Octets=250_000, Acct_Output_Octets=3_500_000,
        )  # fmt: skip
        assert answer == "Accounting-Response"


@pytest.fixture
def radius_world(tmp_path: Path) -> Iterator[tuple[BackendServer, FreeRadiusServer, StandInNas]]:
    reason = missing_reason() or (None if shutil.which("radclient") else "radclient is missing")
    if reason:
        unavailable(reason)
    database = tmp_path / "radius.db"
    FreeRadiusSqlProvisioner(f"sqlite:///{database}").check()  # the kiosk makes the tables
    radius = FreeRadiusServer(tmp_path / "raddb", database, tz=RADIUS_TZ)
    radius.start()
    nas = StandInNas(tmp_path)
    backend = BackendServer(
        tmp_path / "backend",
        provisioning={
            "kind": "freeradius-sql",
            "database_url": f"sqlite:///{database}",
            "radius_timezone": RADIUS_TZ,
            "radius": {
                "nas": [{"address": "127.0.0.1", "coa_port": nas.port, "secret": SECRET.decode()}]
            },
        },
        internet={"member": MEMBER_POLICY},
    )
    add_account(backend, *STAFF)
    try:
        yield backend, radius, nas
    finally:
        backend.stop()
        nas.close()
        radius.stop()


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.freeradius
def test_check_in_to_disconnect_and_the_usage_page(
    radius_world: tuple[BackendServer, FreeRadiusServer, StandInNas], browser: Any
) -> None:
    backend, radius, nas = radius_world
    hotspot = Radclient(radius)
    credential = backend.post("/checkins", json=checkin_body("19000123")).json()["credential"]
    username, password = credential["username"], credential["password"]

    answer, reply = hotspot.login(username, password, PHONE)
    assert answer == "Access-Accept", reply + radius.log_tail()
    assert "Idle-Timeout = 900" in reply and 'Mikrotik-Rate-Limit = "1024k/2048k"' in reply
    timeout = int(re.search(r"Session-Timeout = (\d+)", reply).group(1))  # type: ignore[union-attr]
    assert 0 < timeout <= 2 * 60  # never past the day's two minutes
    hotspot.account(username, "Start", "25-s1", PHONE, 0)

    answer, _ = hotspot.login(username, password, LAPTOP)
    assert answer == "Access-Reject", "a second device while the phone is online"
    assert radius.wait_for_log("Multiple logins"), radius.log_tail()

    hotspot.account(username, "Interim-Update", "25-s1", PHONE, 2 * 60)  # the day's minutes
    answer, _ = hotspot.login(username, password, LAPTOP)
    assert answer == "Access-Reject"
    assert radius.wait_for_log("Rejecting user, &control:Max-Daily-Session"), radius.log_tail()

    context = browser.new_context(base_url=backend.base_url, bypass_csp=True)
    page = context.new_page()
    page.goto("/staff/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto("/staff/usage")
    online = page.locator("#online tbody tr")
    assert online.count() == 1
    row = online.first.inner_text()
    assert username in row and PHONE in row and "10.5.50.23" in row and "19000123" in row
    shoot(page, "usage-online-id")

    page.goto("/staff/credentials")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator(f"form:has(input[name=username][value='{username}']) button").click()
    assert nas.wait_for(1), "the NAS got no Disconnect-Request"
    assert nas.requests[0]["User-Name"] == username
    assert nas.requests[0]["Acct-Session-Id"] == "25-s1"
    assert radius.client().answer(username, password)[0] == "reject"
    hotspot.account(username, "Stop", "25-s1", PHONE, 2 * 60 + 5)  # the NAS ends it

    found: dict[str, list[str]] = {}
    for language in ("id", "en"):
        page.goto(f"/staff/language/{language}?next=/staff/usage")
        page.wait_for_selector("#disconnects")
        assert page.locator("#online tbody tr").first.inner_text().strip() in (
            "Tidak ada yang sedang online.",
            "Nobody is online.",
        )
        assert page.locator("#use-sessions").inner_text() == "1"
        assert page.locator("#use-hours").inner_text() == "0:02"
        kept = page.locator("#disconnects tbody tr").first.inner_text()
        assert username in kept and ("diputus" in kept or "ended" in kept), kept
        found[f"usage-{language}"] = violations_of(page)
        shoot(page, f"usage-{language}")
        page.goto("/staff/members/19000123")
        sessions = page.locator("#member-sessions tbody tr").first.inner_text()
        assert username in sessions and PHONE in sessions and "3.5 MB" in sessions, sessions
        found[f"member-{language}"] = violations_of(page)
        shoot(page, f"usage-member-{language}")
    assert not any(found.values()), found

    page.goto("/staff/usage?period=year")  # a year: the database's totals only
    assert page.locator("#use-sessions").inner_text() == "1"
    assert page.locator("#use-hours").inner_text() == "0:02"
    assert page.locator("#long-period").count() == 1 and page.locator("#per-day").count() == 0
    page.goto("/staff/reports?period=day")  # Laporan: the period's internet line
    assert "Internet: sessions 1, time online 0:02 (h:mm), users 1" in page.inner_text(
        "#report-internet"
    )
    found["reports-en"] = violations_of(page)
    shoot(page, "usage-reports-en")
    assert not found["reports-en"], found
    csv_text = page.request.get("/staff/reports/visits.csv").text()
    rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(csv_text)) if r}
    assert rows["Internet sessions (Wi-Fi logins recorded by RADIUS)"] == ["1"], csv_text
    assert rows["Hours online (all sessions)"] == ["0.0"], csv_text
    context.close()
