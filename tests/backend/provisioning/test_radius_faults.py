"""Bad input from a NAS, as the real FreeRADIUS run from the written configuration takes it:
garbage, a wrong secret, accounting for an unknown user, an Interim without a Start, a Stop
twice, a NAS clock that is off. Each is logged or kept; nothing recorded is lost."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.hotspot_nas import HotspotNas, NoAnswer
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

RADIUS_TZ = "Asia/Jakarta"
PASSWORD = "kt7-Raha5ia"

pytestmark = pytest.mark.freeradius


@dataclass
class Radius:
    server: FreeRadiusServer
    nas: HotspotNas
    wrong_secret: HotspotNas

    def sessions(self) -> list[tuple[str, str, int, int | None, int]]:
        """(user, session, start, stop, seconds) of every radacct row, times in epoch seconds."""
        with sqlite3.connect(self.server.database) as conn:
            return conn.execute(
                "SELECT username, acctsessionid, acctstarttime, acctstoptime, acctsessiontime"
                " FROM radacct ORDER BY radacctid"
            ).fetchall()


@pytest.fixture
def radius(tmp_path: Path) -> Iterator[Radius]:
    reason = missing_reason()
    if reason:
        unavailable(reason)
    database = tmp_path / "radius.db"
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{database}", radius_timezone=RADIUS_TZ)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    provisioner.issue(NetworkCredential("pmember1", PASSWORD, expires))
    provisioner.close()
    server = FreeRadiusServer(tmp_path / "raddb", database, tz=RADIUS_TZ)
    server.start()
    ports = (server.auth_port, server.acct_port)
    try:
        yield Radius(
            server,
            HotspotNas(*ports, server.secret, tmp_path),
            HotspotNas(*ports, "not-the-secret", tmp_path, timeout=1),
        )
    finally:
        server.stop()


def test_garbage_on_either_port_is_logged_dropped_and_the_server_goes_on(radius: Radius) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"\x04\x01\x00\x05junk", ("127.0.0.1", radius.server.acct_port))
        udp.sendto(b"\xff" * 30, ("127.0.0.1", radius.server.auth_port))
    assert radius.server.wait_for_log("Expected at least 20 bytes of packet data, got 5 bytes")
    assert radius.server.wait_for_log("Length field value too large"), radius.server.log_tail()
    # The next patron is served and accounted for as usual.
    assert radius.nas.login("pmember1", PASSWORD, "AA-BB-CC-00-00-01")[0]
    assert radius.nas.account("pmember1", "Start", "s-1"), radius.server.log_tail()
    assert [row[:2] for row in radius.sessions()] == [("pmember1", "s-1")]


def test_a_wrong_secret_is_dropped_with_a_log_line_and_the_nas_retry_is_kept(
    radius: Radius,
) -> None:
    assert not radius.wrong_secret.account("pmember1", "Start", "s-1")
    assert radius.server.wait_for_log("(Shared secret is incorrect.)"), radius.server.log_tail()
    assert radius.sessions() == []
    with pytest.raises(NoAnswer):  # a Reject the NAS cannot verify: no login either
        radius.wrong_secret.login("pmember1", PASSWORD, "AA-BB-CC-00-00-01")
    # The NAS keeps unanswered accounting and sends it again (with the right secret).
    assert radius.nas.account("pmember1", "Start", "s-1")
    assert [row[:2] for row in radius.sessions()] == [("pmember1", "s-1")]


def test_accounting_for_a_user_the_kiosk_never_made_is_kept(radius: Radius) -> None:
    assert radius.nas.account("pstaff99", "Start", "s-9")
    assert radius.nas.account("pstaff99", "Stop", "s-9", seconds=75)
    assert [(r[0], r[1], r[4]) for r in radius.sessions()] == [("pstaff99", "s-9", 75)]


def test_an_interim_without_a_start_opens_the_session_from_its_length(radius: Radius) -> None:
    before = int(time.time())
    assert radius.nas.account("pmember1", "Interim-Update", "s-2", seconds=600)
    ((user, session, start, stop, seconds),) = radius.sessions()
    assert (user, session, stop, seconds) == ("pmember1", "s-2", None, 600)
    assert before - 600 - 5 <= start <= int(time.time()) - 600 + 5


def test_a_stop_sent_twice_leaves_one_closed_session(radius: Radius) -> None:
    assert radius.nas.account("pmember1", "Start", "s-3")
    assert radius.nas.account("pmember1", "Stop", "s-3", seconds=300)
    assert radius.nas.account("pmember1", "Stop", "s-3", seconds=300)  # the NAS retried
    ((_, _, _, stop, seconds),) = radius.sessions()
    assert stop is not None and seconds == 300


def test_a_nas_clock_that_is_off_is_logged_and_its_sessions_timed_by_this_server(
    radius: Radius,
) -> None:
    """Two hours behind: taken as it is, an open session would eat two hours of the day."""
    before = int(time.time())
    assert radius.nas.account("pmember1", "Start", "s-4", clock=time.time() - 7200)
    ((_, _, start, _, _),) = radius.sessions()
    assert before - 5 <= start <= int(time.time()) + 5
    log = radius.server.raddb / "log" / "nas.log"
    (line,) = log.read_text(encoding="utf-8").splitlines()
    assert "NAS 127.0.0.1 clock is off by -720" in line and "session s-4" in line, line
    assert radius.nas.account("pmember1", "Interim-Update", "s-4", seconds=60)
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1  # a NAS on time: no line
