"""The record of use read from radacct as FreeRADIUS's queries write it (SQLite epochs,
PostgreSQL timestamptz, MariaDB DATETIME): who is online, each local day's use by kind, a
patron's sessions, the Dinas figures and the privacy rules (purge after the retention, erase)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from support.mariadb_server import KIOSK_PASSWORD, KIOSK_USER

from kiosk.backend.console.i18n import translator
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.usage import (
    Patron,
    RecordOfUse,
    day_bounds,
    days_of_use,
    period_total,
)
from kiosk.backend.reports.dinas_tables import internet_table
from kiosk.backend.reports.visits import Period, VisitReport

ZONE = ZoneInfo("Asia/Jakarta")
DAY1, DAY2 = dt.date(2026, 12, 7), dt.date(2026, 12, 8)
NOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=ZONE).astimezone(dt.UTC)
PATRONS = {
    "m1": Patron("member", "19000123", "19000123"),
    "g1": Patron("guest", "", "Budi"),
    "r1": Patron("group", "", "SMA 3"),
}


def local(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), ZONE).timestamp())


def account(
    engine: sa.Engine, username: str, mac: str, start: int, seconds: int | None, **octets: int
) -> None:
    """A radacct row as FreeRADIUS's Start and Stop queries leave it (seconds None: open)."""
    when = {"sqlite": ":{}", "postgresql": "TO_TIMESTAMP(:{})"}.get(
        engine.dialect.name, "FROM_UNIXTIME(:{})"
    )
    stop = "NULL" if seconds is None else when.format("stop")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
                " callingstationid, framedipaddress, acctstarttime, acctstoptime,"
                " acctsessiontime, acctinputoctets, acctoutputoctets) VALUES (:sid, :uid,"
                f" :user, '10.5.50.1', :mac, '10.5.50.77', {when.format('start')}, {stop},"
                " :seconds, :up, :down)"
            ),
            {
                "sid": f"{username}-{start}",
                "uid": f"{username}-{start}",
                "user": username,
                "mac": mac,
                "start": start,
                "stop": start + (seconds or 0),
                "seconds": seconds,
                "up": octets.get("up", 0),
                "down": octets.get("down", 0),
            },
        )


def mariadb_url(request: pytest.FixtureRequest) -> str:
    """A new database on the session's MariaDB that the kiosk's account may change."""
    server = request.getfixturevalue("mariadb")
    name = f"radius_{uuid.uuid4().hex[:8]}"
    server.sql(f"CREATE DATABASE {name};")
    for host in ("127.0.0.1", "localhost"):
        who = f"'{KIOSK_USER}'@'{host}'"
        server.sql(f"CREATE USER IF NOT EXISTS {who} IDENTIFIED BY '{KIOSK_PASSWORD}';")
        server.sql(f"GRANT ALL ON {name}.* TO {who};")
    return str(server.url(name))


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def record(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordOfUse]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'radius.db'}"
    elif request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = mariadb_url(request)
    provisioner = FreeRadiusSqlProvisioner(url)
    provisioner.check()  # creates FreeRADIUS's tables
    engine = provisioner.engine
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM radacct"))
    account(engine, "m1", "aa-bb-cc-00-00-01", local(DAY1, 8), 3600, up=1000, down=5000)
    account(engine, "m1", "AA-BB-CC-00-00-01", local(DAY1, 10), 1800, up=10, down=20)
    # 00:30 in Jakarta is still the day before in UTC: it counts on the library's day 2.
    account(engine, "g1", "AA-BB-CC-00-00-02", local(DAY2, 0, 30), 600)
    account(engine, "r1", "AA-BB-CC-00-00-03", int(NOW.timestamp()) - 1200, None, down=7)
    yield RecordOfUse(engine)
    provisioner.close()


def test_who_is_online_now(record: RecordOfUse) -> None:
    [online] = record.online(NOW)
    assert (online.username, online.mac, online.ip) == ("r1", "AA-BB-CC-00-00-03", "10.5.50.77")
    assert online.online and online.seconds == 1200 and online.downloaded == 7
    assert online.started_at == NOW - dt.timedelta(seconds=1200)


def test_each_local_day_by_kind_of_patron(record: RecordOfUse) -> None:
    first, end = day_bounds(DAY1, DAY2, ZONE)
    sessions = record.between(first, end, NOW)
    use = days_of_use(sessions, PATRONS, [DAY1, DAY2], ZONE)
    day1, day2 = use.days
    assert (day1.sessions, day1.seconds, day1.downloaded, day1.uploaded) == (2, 5400, 5020, 1010)
    assert (len(day1.users), len(day1.devices)) == (1, 1)  # one phone, its MAC in two cases
    assert day1.by_kind["member"].sessions == 2 and day1.by_kind["guest"].sessions == 0
    assert (day2.sessions, day2.seconds, len(day2.users)) == (2, 600 + 1200, 2)
    assert day2.by_kind["guest"].seconds == 600 and day2.by_kind["group"].seconds == 1200
    assert (use.total.sessions, len(use.total.users), len(use.total.devices)) == (4, 3, 3)
    only_day2 = record.between(*day_bounds(DAY2, DAY2, ZONE), NOW)
    assert sorted(s.username for s in only_day2) == ["g1", "r1"]


def test_a_patrons_sessions_and_erasing_them(record: RecordOfUse) -> None:
    mine = record.of_users(["m1"], NOW)
    assert [s.seconds for s in mine] == [3600, 1800]
    assert mine[0].stopped_at == mine[0].started_at + dt.timedelta(hours=1)  # type: ignore[operator]
    assert record.erase(["m1"]) == 2
    assert record.of_users(["m1"], NOW) == []
    assert len(record.of_users(["g1", "r1"], NOW)) == 2


def test_the_purge_removes_sessions_older_than_the_retention(record: RecordOfUse) -> None:
    long_ago = int((NOW - dt.timedelta(days=400)).timestamp())
    account(record.engine, "old", "AA-BB-CC-00-00-09", long_ago, 300)
    account(record.engine, "ghost", "AA-BB-CC-00-00-0A", long_ago, None)  # a Stop never came
    assert record.purge(NOW - dt.timedelta(days=365)) == 2
    assert record.of_users(["old", "ghost"], NOW) == []
    assert len(record.of_users(["m1", "g1", "r1"], NOW)) == 4


def test_the_dinas_internet_table_takes_the_periods_sessions_and_hours(
    record: RecordOfUse,
) -> None:
    report = VisitReport(Period(DAY1, DAY2), credentials_issued=3, credentials_shown_again=1)
    use = period_total(record, DAY1, DAY2, ZONE, NOW)
    t = translator("id")
    rows = {row[0]: row[1] for row in internet_table(report, t, use).rows}
    assert rows[t("export.internet.issued")] == 3
    assert rows[t("export.internet.shown_again")] == 1
    assert rows[t("export.internet.sessions")] == 4
    assert rows[t("export.internet.hours")] == Decimal("2.0")  # 5400 + 600 + 1200 s
    assert rows[t("export.internet.users")] == 3
    bare = internet_table(report, t)  # no record of use: the lines are not there
    assert t("export.internet.sessions") not in {row[0] for row in bare.rows}


def test_a_years_totals_match_the_days(record: RecordOfUse) -> None:
    """Over 62 days the database sums (SQLite reading radacct in order): the same figures."""
    year = period_total(record, dt.date(2026, 1, 1), dt.date(2026, 12, 31), ZONE, NOW)
    days = period_total(record, DAY1, DAY2, ZONE, NOW)
    assert year == days
    assert (year.sessions, year.seconds, year.users, year.devices) == (4, 7200, 3, 3)
    assert (year.downloaded, year.uploaded) == (5027, 1010)
