"""radacct holds usernames, MAC and IP addresses: a real backend on FreeRADIUS's tables purges
the sessions older than [privacy] retention_days, `kiosk privacy export` lists a member's
sessions and `kiosk privacy erase` ends the live one at the NAS, then removes them all with
the Disconnect-Request's outcome (and nobody else's)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

from support.backend_server import BackendServer, checkin_body
from support.coa_nas import SECRET, StandInNas


def account(database: Path, username: str, start: int, seconds: int | None, mac: str) -> None:
    """A session as FreeRADIUS's SQLite queries write it (times as epoch seconds; seconds
    None: still open)."""
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
            " callingstationid, framedipaddress, acctstarttime, acctstoptime, acctsessiontime,"
            " acctinputoctets, acctoutputoctets) VALUES (?, ?, ?, '127.0.0.1', ?, '10.5.50.9',"
            " ?, ?, ?, 100, 2000)",
            (
                f"s{start}",
                f"u{username}{start}",
                username,
                mac,
                start,
                None if seconds is None else start + seconds,
                seconds,
            ),
        )


def radacct_users(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT username FROM radacct ORDER BY username")]


def test_purge_export_and_erase_take_the_internet_sessions_along(tmp_path: Path) -> None:
    radius = tmp_path / "radius.db"
    nas = StandInNas(tmp_path)
    with BackendServer(
        tmp_path / "backend",
        provisioning={
            "kind": "freeradius-sql",
            "database_url": f"sqlite:///{radius}",
            "radius": {
                "nas": [{"address": "127.0.0.1", "coa_port": nas.port, "secret": SECRET.decode()}]
            },
        },
        privacy={"retention_days": 365},
    ) as server:
        mine = server.post("/checkins", json=checkin_body("19000123")).json()["credential"]
        other = server.post("/checkins", json=checkin_body("19000126")).json()["credential"]
    now = int(time.time())
    account(radius, mine["username"], now - 3600, 1800, "AA-BB-CC-00-00-01")
    account(radius, other["username"], now - 600, 300, "AA-BB-CC-00-00-02")
    long_ago = now - int(dt.timedelta(days=400).total_seconds())
    account(radius, "gone01", long_ago, 300, "AA-BB-CC-00-00-03")
    account(radius, mine["username"], now - 60, None, "AA-BB-CC-00-00-01")  # online now

    held = json.loads(server.kiosk("privacy", "export", "19000123").stdout)
    session, online = held["internet_sessions"]
    assert online["stopped_at"] is None and online["seconds"] >= 60
    assert session["username"] == mine["username"] and session["seconds"] == 1800
    assert session["device_mac"] == "AA-BB-CC-00-00-01" and session["ip_address"] == "10.5.50.9"
    assert session["started_at"] == dt.datetime.fromtimestamp(now - 3600, dt.UTC).isoformat()

    dry = server.kiosk("privacy", "purge", "--dry-run").stdout
    assert "     1  internet sessions (radacct) older than 365 days deleted" in dry, dry
    assert len(radacct_users(radius)) == 4
    done = server.kiosk("privacy", "purge").stdout
    assert "     1  internet sessions (radacct) older than 365 days deleted" in done, done
    assert radacct_users(radius) == sorted([mine["username"]] * 2 + [other["username"]])

    erased = server.kiosk("privacy", "erase", "19000123").stdout
    assert erased.rstrip().endswith("internet sessions deleted 2"), erased
    assert nas.wait_for(1) and nas.requests[0]["User-Name"] == mine["username"]
    assert radacct_users(radius) == [other["username"]]
    with sqlite3.connect(radius) as conn:  # the outcome of the erasure's disconnect went too
        assert conn.execute("SELECT count(*) FROM kiosk_disconnect").fetchone() == (0,)
    nas.close()
