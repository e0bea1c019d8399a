"""The daily counter and Simultaneous-Use through the real FreeRADIUS on PostgreSQL and MariaDB
(their counter queries differ from SQLite's): a second device refused, the day's minutes
spent, then refused with Max-Daily-Session."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hotspot_nas import HotspotNas
from support.mariadb_server import MariaDB
from support.needs import unavailable
from support.postgres_server import PostgreSQL
from support.radius_server import MODULE_DIR, FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.config import InternetPolicy, InternetSettings

RADIUS_TZ = "Asia/Jakarta"
PASSWORD = "kt7-Raha5ia"
TWO_MINUTES = InternetPolicy(
    daily_minutes=2, devices=1, download_kbps=2048, upload_kbps=1024, idle_minutes=15
)
_databases = itertools.count(1)


def radius_database(server: str, request: pytest.FixtureRequest) -> str:
    """A fresh database on the session's PostgreSQL or MariaDB; its URL."""
    driver = {"postgresql": "rlm_sql_postgresql.so", "mariadb": "rlm_sql_mysql.so"}[server]
    if not (MODULE_DIR / driver).exists():
        package = "freeradius-postgresql" if server == "postgresql" else "freeradius-mysql"
        unavailable(f"{driver} not in {MODULE_DIR} (Debian: apt-get install {package})")
    if server == "postgresql":
        postgres: PostgreSQL = request.getfixturevalue("postgresql")
        return postgres.new_database("radius").replace("+psycopg", "")
    mariadb: MariaDB = request.getfixturevalue("mariadb")
    name = f"radius_{next(_databases)}"
    mariadb.sql(
        f"CREATE DATABASE {name};"
        "CREATE USER IF NOT EXISTS 'radius'@'127.0.0.1' IDENTIFIED BY 'radius-pass';"
        f"GRANT ALL ON {name}.* TO 'radius'@'127.0.0.1';"
    )
    return f"mysql+pymysql://radius:radius-pass@127.0.0.1:{mariadb.port}/{name}"


@pytest.fixture(params=["postgresql", "mariadb"])
def radius(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, HotspotNas]]:
    reason = missing_reason()
    if reason:
        unavailable(reason)
    url = radius_database(request.param, request)
    internet = InternetSettings(member=TWO_MINUTES, guest=TWO_MINUTES, group=TWO_MINUTES)
    provisioner = FreeRadiusSqlProvisioner(url, radius_timezone=RADIUS_TZ, internet=internet)
    provisioner.check()  # the kiosk makes the tables (and the counter's indexes)
    server = FreeRadiusServer(
        tmp_path / "raddb", tmp_path / "unused.db", tz=RADIUS_TZ, database_url=url
    )
    server.start()
    try:
        yield (
            provisioner,
            server,
            HotspotNas(server.auth_port, server.acct_port, server.secret, tmp_path),
        )
    finally:
        server.stop()
        provisioner.close()


@pytest.mark.freeradius
def test_one_device_then_the_days_minutes_are_spent_and_the_login_is_refused(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer, HotspotNas],
) -> None:
    provisioner, server, hotspot = radius
    username = "u" + uuid.uuid4().hex[:7]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    provisioner.issue(NetworkCredential(username, PASSWORD, expires))

    accepted, reply = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-01")
    assert accepted, server.log_tail()
    assert reply["Mikrotik-Rate-Limit"] == "1024k/2048k"
    assert 0 < int(str(reply["Session-Timeout"])) <= 2 * 60  # the day's two minutes at most
    assert hotspot.account(username, "Start", "s-phone"), server.log_tail()

    accepted, _ = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-02")
    assert not accepted, "a second device while the first is online"
    assert server.wait_for_log("Multiple logins"), server.log_tail()

    # One minute online so far: the next login gets what is left of the day.
    assert hotspot.account(username, "Interim-Update", "s-phone", seconds=60), server.log_tail()
    assert hotspot.account(username, "Stop", "s-phone", seconds=90), server.log_tail()
    accepted, reply = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-02")
    assert accepted, server.log_tail()
    assert 0 < int(str(reply["Session-Timeout"])) <= 30
    assert hotspot.account(username, "Start", "s-laptop"), server.log_tail()
    assert hotspot.account(username, "Stop", "s-laptop", seconds=30), server.log_tail()

    accepted, _ = hotspot.login(username, PASSWORD, "AA-BB-CC-00-00-02")
    assert not accepted, "the day's two minutes are spent"
    assert server.wait_for_log("Rejecting user, &control:Max-Daily-Session"), server.log_tail()
