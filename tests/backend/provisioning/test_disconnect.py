"""Revoking a credential ends its live sessions: an RFC 5176 Disconnect-Request per open radacct
session to a stand-in NAS on loopback (decoded with pyrad, an implementation of its own), ACK,
NAK, silence and garbage logged; the revoke itself never waits for the NAS."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrad.packet import CoAPacket, DisconnectACK
from support.coa_nas import SECRET, StandInNas

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.disconnect import (
    OpenSession,
    answer_of,
    disconnect_request,
)
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.usage import RecordOfUse
from kiosk.config.internet import RadiusNas


@pytest.fixture
def nas(tmp_path: Path) -> Iterator[StandInNas]:
    stand_in = StandInNas(tmp_path)
    yield stand_in
    stand_in.close()


def provisioner_with_sessions(
    tmp_path: Path, nas: StandInNas, sessions: int
) -> tuple[FreeRadiusSqlProvisioner, str]:
    database = tmp_path / "radius.db"
    provisioner = FreeRadiusSqlProvisioner(
        f"sqlite:///{database}",
        nas=[RadiusNas(address="127.0.0.1", coa_port=nas.port, secret=SECRET.decode())],
    )
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    provisioner.issue(NetworkCredential("siti01", "Pw-12345x", expires))
    with sqlite3.connect(database) as conn:  # what FreeRADIUS's accounting Start writes
        for number in range(sessions):
            conn.execute(
                "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
                " framedipaddress, acctstarttime) VALUES (?, ?, 'siti01', '127.0.0.1', ?, ?)",
                (f"8100000{number}", f"u{number}", f"10.5.50.{20 + number}", 1796680000),
            )
        conn.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
            " acctstarttime, acctstoptime) VALUES ('old', 'u-old', 'siti01', '127.0.0.1',"
            " 1796600000, 1796600100)"
        )
    return provisioner, "siti01"


def test_revoke_sends_a_disconnect_for_each_open_session(
    tmp_path: Path, nas: StandInNas, caplog: pytest.LogCaptureFixture
) -> None:
    provisioner, username = provisioner_with_sessions(tmp_path, nas, sessions=2)
    caplog.set_level(logging.INFO, logger="kiosk.backend.provisioning.disconnect")
    provisioner.revoke(username)
    assert nas.wait_for(2)
    assert provisioner.disconnector.wait_for(2, timeout=10)
    assert [r["Acct-Session-Id"] for r in nas.requests] == ["81000000", "81000001"]
    assert {r["User-Name"] for r in nas.requests} == {"siti01"}
    assert [r["Framed-IP-Address"] for r in nas.requests] == ["10.5.50.20", "10.5.50.21"]
    assert [outcome for _, outcome in provisioner.disconnector.sent] == ["ack", "ack"]
    assert "disconnect siti01 session '81000001' at 127.0.0.1" in caplog.text
    assert SECRET.decode() not in caplog.text
    provisioner.close()


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [("nak", "nak (Error-Cause 503)"), ("silent", "timeout"), ("garbage", "timeout")],
)
def test_a_nak_silence_or_garbage_is_logged_and_the_revoke_holds(
    tmp_path: Path, mode: str, outcome: str, caplog: pytest.LogCaptureFixture
) -> None:
    nas = StandInNas(tmp_path, mode)
    provisioner, username = provisioner_with_sessions(tmp_path, nas, sessions=1)
    provisioner.revoke(username)  # returns at once: the NAS is asked on another thread
    assert provisioner.usernames() == set()
    assert provisioner.disconnector.wait_for(1, timeout=30)
    assert provisioner.disconnector.sent[0][1] == outcome
    expected_tries = 3 if outcome == "timeout" else 1
    assert nas.wait_for(expected_tries) and len(nas.requests) == expected_tries
    nas.close()
    provisioner.close()


def test_a_nas_not_configured_is_named_and_nothing_is_sent(
    tmp_path: Path, nas: StandInNas, caplog: pytest.LogCaptureFixture
) -> None:
    provisioner, username = provisioner_with_sessions(tmp_path, nas, sessions=1)
    provisioner.disconnector.nas.clear()
    provisioner.revoke(username)
    assert provisioner.disconnector.wait_for(1, timeout=10)
    assert provisioner.disconnector.sent[0][1] == "no nas"
    assert "is not in [[provisioning.radius.nas]]" in caplog.text
    assert nas.requests == []
    provisioner.close()


def test_an_answer_with_the_wrong_secret_is_not_taken_for_an_ack() -> None:
    session = OpenSession("siti01", "8100", "127.0.0.1", "10.5.50.20")
    request = disconnect_request(session, 7, SECRET)
    reply = CoAPacket(
        code=DisconnectACK, id=7, secret=b"another-secret", authenticator=request[4:20]
    )
    forged = reply.ReplyPacket()
    assert answer_of(forged, request, SECRET).startswith("garbage (wrong authenticator")
    assert answer_of(b"\x29\x07", request, SECRET) == "garbage (too short)"


@pytest.mark.parametrize(("mode", "outcome"), [("ack", "ack"), ("nak", "nak (Error-Cause 503)")])
def test_each_outcome_is_kept_for_the_console(tmp_path: Path, mode: str, outcome: str) -> None:
    nas = StandInNas(tmp_path, mode)
    provisioner, username = provisioner_with_sessions(tmp_path, nas, sessions=1)
    provisioner.revoke(username)
    assert provisioner.disconnector.wait_for(1, timeout=10)
    kept = RecordOfUse(provisioner.engine).disconnects()
    assert [(k["username"], k["session_id"], k["nas"], k["outcome"], k["tries"]) for k in kept] == [
        (username, "81000000", "127.0.0.1", outcome, 1)
    ]
    assert kept[0]["sent_at"].tzinfo is not None
    nas.close()
    provisioner.close()
