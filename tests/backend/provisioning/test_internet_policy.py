"""The library's rules on the network ([internet.<kind>]) through the real FreeRADIUS, run from
the configuration `kiosk network radius-config` writes: the policy's reply attributes with the
Accept, one device at a time, the day's minutes, and accounting into radacct."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrad.client import Client
from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessRequest, AccountingResponse
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.radius_config import write_radius_config
from kiosk.backend.provisioning.radius_policy import check_attributes, reply_attributes
from kiosk.config import ConfigError, InternetPolicy, InternetSettings, ProvisioningSettings

RADIUS_TZ = "Asia/Jakarta"
MEMBER = InternetPolicy(
    daily_minutes=2, devices=1, download_kbps=2048, upload_kbps=1024, idle_minutes=15
)
GROUP = InternetPolicy(daily_minutes=0, devices=0, download_kbps=0, upload_kbps=0, idle_minutes=0)
PASSWORD = "kt7-Raha5ia"

# What a hotspot sends and reads, by number (pyrad needs them; vendors as FreeRADIUS's own).
DICTIONARY = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Idle-Timeout 28 integer
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Acct-Status-Type 40 integer
VALUE Acct-Status-Type Start 1
VALUE Acct-Status-Type Stop 2
VALUE Acct-Status-Type Interim-Update 3
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Acct-Session-Time 46 integer
VENDOR Mikrotik 14988
ATTRIBUTE Mikrotik-Rate-Limit 8 string Mikrotik
VENDOR WISPr 14122
ATTRIBUTE WISPr-Bandwidth-Max-Up 7 integer WISPr
ATTRIBUTE WISPr-Bandwidth-Max-Down 8 integer WISPr
"""


class Hotspot:
    """A NAS on loopback: logs a device in with a username and password, and accounts for it."""

    def __init__(self, server: FreeRadiusServer, dictionary: Path) -> None:
        self.client = Client(
            server="127.0.0.1",
            authport=server.auth_port,
            acctport=server.acct_port,
            secret=server.secret.encode(),
            dict=Dictionary(str(dictionary)),
        )
        self.client.timeout = 5
        self.client.retries = 1

    def login(self, username: str, password: str, mac: str) -> tuple[bool, dict[str, object]]:
        request = self.client.CreateAuthPacket(code=AccessRequest, User_Name=username)
        request["User-Password"] = request.PwCrypt(password)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Calling-Station-Id"] = mac
        reply = self.client.SendPacket(request)
        return reply.code == AccessAccept, {key: reply[key][0] for key in reply.keys()}

    def account(self, username: str, status: str, session: str, seconds: int = 0) -> None:
        request = self.client.CreateAcctPacket(User_Name=username)
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = session
        request["Acct-Session-Time"] = seconds
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Framed-IP-Address"] = "10.5.50.23"
        assert self.client.SendPacket(request).code == AccountingResponse


@pytest.fixture
def radius(tmp_path: Path) -> Iterator[tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, Hotspot]]:
    reason = missing_reason()
    if reason:
        unavailable(reason)
    database = tmp_path / "radius.db"
    internet = InternetSettings(member=MEMBER, guest=MEMBER, group=GROUP)
    provisioner = FreeRadiusSqlProvisioner(
        f"sqlite:///{database}", radius_timezone=RADIUS_TZ, internet=internet
    )
    provisioner.check()  # the kiosk makes the database; FreeRADIUS is pointed at it
    server = FreeRadiusServer(tmp_path / "raddb", database, tz=RADIUS_TZ)
    server.start()
    dictionary = tmp_path / "hotspot.dictionary"
    dictionary.write_text(DICTIONARY, encoding="utf-8")
    try:
        yield provisioner, server, Hotspot(server, dictionary)
    finally:
        server.stop()
        provisioner.close()


def issue(provisioner: FreeRadiusSqlProvisioner, kind: str = "member") -> str:
    username = "u" + uuid.uuid4().hex[:7]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    provisioner.issue(NetworkCredential(username, PASSWORD, expires, kind=kind))  # type: ignore[arg-type]
    return username


@pytest.mark.freeradius
def test_a_member_gets_the_policy_one_device_and_the_days_minutes(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, Hotspot],
) -> None:
    provisioner, server, hotspot = radius
    username = issue(provisioner)

    accepted, reply = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-01")
    assert accepted, server.log_tail()
    assert reply["Idle-Timeout"] == 15 * 60
    assert reply["Mikrotik-Rate-Limit"] == "1024k/2048k"  # rx/tx as the router sees them
    assert reply["WISPr-Bandwidth-Max-Down"] == 2048 * 1000
    assert reply["WISPr-Bandwidth-Max-Up"] == 1024 * 1000
    # The day's remaining minutes (2), never past them; the expiry is a day away.
    assert 0 < int(str(reply["Session-Timeout"])) <= 2 * 60

    hotspot.account(username, "Start", "s-phone")
    with sqlite3.connect(server.database) as conn:
        open_sessions = conn.execute(
            "SELECT count(*) FROM radacct WHERE username = ? AND acctstoptime IS NULL",
            (username,),
        ).fetchone()[0]
    assert open_sessions == 1

    accepted, _ = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-02")
    assert not accepted, "a second device while the first is online"
    assert server.wait_for_log("Multiple logins"), server.log_tail()

    hotspot.account(username, "Stop", "s-phone", seconds=2 * 60)
    accepted, _ = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-02")
    assert not accepted, "the day's two minutes are spent"
    assert server.wait_for_log("Rejecting user, &control:Max-Daily-Session"), server.log_tail()


@pytest.mark.freeradius
def test_each_kind_of_patron_has_its_own_policy(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, Hotspot],
) -> None:
    """The group's policy here has no limits: three devices at once, no reply limits."""
    provisioner, server, hotspot = radius
    username = issue(provisioner, kind="group")
    for number in range(3):
        accepted, reply = hotspot.login(username, PASSWORD, f"AA-BB-CC-00-01-0{number}")
        assert accepted, server.log_tail()
        assert "Mikrotik-Rate-Limit" not in reply and "Idle-Timeout" not in reply
        hotspot.account(username, "Start", f"s-{number}")


@pytest.mark.freeradius
def test_revoking_removes_the_policy_rows_too(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, Hotspot],
) -> None:
    provisioner, server, hotspot = radius
    username = issue(provisioner)
    provisioner.revoke(username)
    with sqlite3.connect(server.database) as conn:
        left = conn.execute(
            "SELECT (SELECT count(*) FROM radcheck WHERE username = :u)"
            " + (SELECT count(*) FROM radreply WHERE username = :u)",
            {"u": username},
        ).fetchone()[0]
    assert left == 0
    assert not hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-09")[0]


def test_a_policy_of_zeros_writes_no_limits() -> None:
    assert check_attributes(GROUP) == [] and reply_attributes(GROUP) == []
    assert ("Simultaneous-Use", ":=", "1") in check_attributes(MEMBER)
    assert ("Max-Daily-Session", ":=", "120") in check_attributes(MEMBER)


def test_the_written_directory_is_owner_only_and_names_every_nas(tmp_path: Path) -> None:
    settings = ProvisioningSettings.model_validate(
        {
            "kind": "freeradius-sql",
            "database_url": "postgresql://radius:s3cret@db.perpustakaan.local/radius",
            "radius": {
                "clients": [
                    {"address": "192.168.88.1", "secret": "hotspot-secret-1", "name": "mikrotik"},
                    {"address": "10.20.0.0/24", "secret": "ap-secret-22"},
                ]
            },
        }
    )
    written, warnings = write_radius_config(tmp_path / "raddb", settings)
    assert "self-signed" in warnings[0]
    assert stat.S_IMODE((tmp_path / "raddb").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in written)
    text = (tmp_path / "raddb" / "radiusd.conf").read_text(encoding="utf-8")
    assert "client mikrotik {" in text and "ipaddr = 10.20.0.0/24" in text
    assert 'driver = "rlm_sql_postgresql"' in text and "EXTRACT(EPOCH FROM" in text
    assert "port = 1812" in text and "port = 1813" in text
    # No login attempt (password included) is kept in radpostauth.
    assert "post-auth {\n        ok" in text


def test_no_nas_and_a_bad_database_are_refused_with_what_to_do(tmp_path: Path) -> None:
    bare = ProvisioningSettings(kind="freeradius-sql", database_url="sqlite:////tmp/r.db")
    with pytest.raises(ConfigError, match="provisioning.radius.clients"):
        write_radius_config(tmp_path / "a", bare)
    assert not (tmp_path / "a").exists()  # nothing half-written
    odd = bare.model_copy(
        update={"database_url": "oracle://x/y", "radius": {"clients": []}}
    ).model_validate(
        {
            "kind": "freeradius-sql",
            "database_url": "oracle://x/y",
            "radius": {"clients": [{"address": "127.0.0.1", "secret": "a-secret-1"}]},
        }
    )
    with pytest.raises(ConfigError, match="SQLite, PostgreSQL or MySQL"):
        write_radius_config(tmp_path / "b", odd)
    with pytest.raises(ValueError, match="quotes"):
        ProvisioningSettings.model_validate(
            {"radius": {"clients": [{"address": "127.0.0.1", "secret": 'bad"secret'}]}}
        )


def test_the_command_writes_a_directory_freeradius_accepts(tmp_path: Path) -> None:
    """`kiosk network radius-config` from a config file; `freeradius -C` checks the result."""
    reason = missing_reason()
    if reason:
        unavailable(reason)
    database = tmp_path / "radius.db"
    FreeRadiusSqlProvisioner(f"sqlite:///{database}").check()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[provisioning]\nkind = "freeradius-sql"\ndatabase_url = "sqlite:///{database}"\n'
        '[[provisioning.radius.clients]]\naddress = "192.168.88.1"\nsecret = "hotspot-secret"\n',
        encoding="utf-8",
    )
    out = tmp_path / "raddb"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "network",
            "radius-config",
            str(out),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "freeradius -f -d" in result.stdout
    check = subprocess.run(
        ["freeradius", "-C", "-d", str(out)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
