"""freeradius-sql on a SQLite file: FreeRADIUS's own schema and rows, staff accounts left alone,
one transaction per credential, a locked database reported as unavailable."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from support.needs import unavailable

from kiosk.backend.provisioning.base import CredentialRejected, ProvisioningUnavailable
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner, metadata
from kiosk.backend.provisioning.radius_dates import freeradius_date, parse_freeradius_date

if TYPE_CHECKING:
    from provisioning.conftest import CredentialFactory

SCHEMA_DIR = Path("/etc/freeradius/3.0/mods-config/sql/main")
JAKARTA = ZoneInfo("Asia/Jakarta")


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as conn:
        return conn.execute(query).fetchall()


def freeradius_schema(dialect: str) -> str:
    path = SCHEMA_DIR / dialect / "schema.sql"
    if not path.exists():
        unavailable(f"FreeRADIUS's schema not installed at {path} (Debian: freeradius package)")
    return path.read_text(encoding="utf-8")


def test_expiration_is_written_the_way_rlm_expiration_reads_it() -> None:
    moment = dt.datetime(2026, 11, 28, 14, 30, tzinfo=dt.UTC)
    assert freeradius_date(moment, JAKARTA) == "28 Nov 2026 21:30:00"
    assert freeradius_date(moment, ZoneInfo("UTC")) == "28 Nov 2026 14:30:00"
    assert parse_freeradius_date("28 Nov 2026 21:30:00", JAKARTA) == moment
    # The other forms FreeRADIUS's fr_get_time() takes, which staff may have typed.
    assert parse_freeradius_date("Nov 28 2026 21:30:00", JAKARTA) == moment
    assert parse_freeradius_date(str(int(moment.timestamp())), JAKARTA) == moment
    assert parse_freeradius_date("next tuesday", JAKARTA) is None
    assert parse_freeradius_date("9" * 30, JAKARTA) is None


def test_a_new_sqlite_file_gets_freeradius_own_tables_and_columns(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, tmp_path: Path
) -> None:
    freeradius_sql.check()
    reference = tmp_path / "reference.db"
    with sqlite3.connect(reference) as conn:
        conn.executescript(freeradius_schema("sqlite"))
    expected = {
        name for (name,) in rows(reference, "SELECT name FROM sqlite_master WHERE type='table'")
    }
    expected.discard("sqlite_sequence")
    for table in sorted(expected - {"nasreload"}):
        ours = [r[1] for r in rows(radius_db, f"PRAGMA table_info({table})")]
        theirs = [r[1] for r in rows(reference, f"PRAGMA table_info({table})")]
        assert ours == theirs, table


@pytest.mark.parametrize("dialect", ["mysql", "postgresql"])
def test_the_tables_written_have_the_columns_of_freeradius_other_schemas(dialect: str) -> None:
    schema = freeradius_schema(dialect)
    for table in ("radcheck", "radusergroup"):
        block = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", schema, re.S)
        assert block, table
        columns = [
            line.split()[0].lower()
            for line in block.group(1).strip().splitlines()
            if line.strip() and not re.match(r"\s*(PRIMARY|KEY|UNIQUE|INDEX)", line)
        ]
        assert columns == list(metadata.tables[table].columns.keys()), table


def test_issue_writes_password_expiry_and_group_rows(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, make_credential: CredentialFactory
) -> None:
    credential = make_credential(hours=2)
    freeradius_sql.issue(credential)
    assert rows(radius_db, "SELECT username, attribute, op, value FROM radcheck ORDER BY id") == [
        ("p7k2m9", "Cleartext-Password", ":=", "Hx4tRw9q"),
        ("p7k2m9", "Expiration", ":=", freeradius_date(credential.expires_at, JAKARTA)),
        # [internet.member]'s defaults: one device, 120 minutes a day.
        ("p7k2m9", "Simultaneous-Use", ":=", "1"),
        ("p7k2m9", "Max-Daily-Session", ":=", "7200"),
    ]
    assert rows(radius_db, "SELECT attribute, value FROM radreply ORDER BY id") == [
        ("Idle-Timeout", "900"),
        ("Mikrotik-Rate-Limit", "1024k/2048k"),
        ("WISPr-Bandwidth-Max-Down", "2048000"),
        ("WISPr-Bandwidth-Max-Up", "1024000"),
    ]
    assert rows(radius_db, "SELECT username, groupname, priority FROM radusergroup") == [
        ("p7k2m9", "perpustakaan", 1)
    ]
    assert freeradius_sql.current() == {"p7k2m9": credential}


def test_no_group_row_when_no_group_is_configured(
    radius_db: Path, make_credential: CredentialFactory
) -> None:
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{radius_db}", radius_timezone="UTC")
    provisioner.issue(make_credential())
    provisioner.close()
    assert rows(radius_db, "SELECT count(*) FROM radcheck") == [(4,)]
    assert rows(radius_db, "SELECT count(*) FROM radusergroup") == [(0,)]


def test_renew_replaces_password_and_expiry_without_duplicating_rows(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, make_credential: CredentialFactory
) -> None:
    freeradius_sql.issue(make_credential(password="first-pw", hours=1))
    renewed = make_credential(password="second-pw", hours=5)
    freeradius_sql.renew(renewed)
    assert rows(radius_db, "SELECT attribute, value FROM radcheck ORDER BY id") == [
        ("Cleartext-Password", "second-pw"),
        ("Expiration", freeradius_date(renewed.expires_at, JAKARTA)),
        ("Simultaneous-Use", "1"),
        ("Max-Daily-Session", "7200"),
    ]
    assert rows(radius_db, "SELECT count(*) FROM radreply") == [(4,)]
    assert rows(radius_db, "SELECT count(*) FROM radusergroup") == [(1,)]


def test_revoke_deletes_the_rows_and_tolerates_a_missing_user(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, make_credential: CredentialFactory
) -> None:
    freeradius_sql.issue(make_credential())
    freeradius_sql.revoke("p7k2m9")
    freeradius_sql.revoke("p7k2m9")
    freeradius_sql.revoke("never-existed")
    assert rows(radius_db, "SELECT count(*) FROM radcheck") == [(0,)]
    assert rows(radius_db, "SELECT count(*) FROM radusergroup") == [(0,)]
    assert freeradius_sql.usernames() == set()


def test_a_staff_account_in_radcheck_is_never_touched(
    radius_db: Path, tmp_path: Path, make_credential: CredentialFactory
) -> None:
    # The library's existing FreeRADIUS database, made with FreeRADIUS's own schema.sql.
    with sqlite3.connect(radius_db) as conn:
        conn.executescript(freeradius_schema("sqlite"))
        conn.execute(
            "INSERT INTO radcheck (username, attribute, op, value) "
            "VALUES ('pustakawan', 'Cleartext-Password', ':=', 'staff-secret')"
        )
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{radius_db}", group="perpustakaan")
    provisioner.issue(make_credential())
    with pytest.raises(CredentialRejected, match="pustakawan"):
        provisioner.issue(make_credential(username="pustakawan", password="patron-pw"))
    provisioner.revoke("pustakawan")
    assert provisioner.usernames() == {"p7k2m9"}
    assert set(provisioner.current()) == {"p7k2m9"}
    provisioner.close()
    assert rows(radius_db, "SELECT value FROM radcheck WHERE username = 'pustakawan'") == [
        ("staff-secret",)
    ]


def test_a_failure_midway_leaves_nothing_half_made(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, make_credential: CredentialFactory
) -> None:
    freeradius_sql.check()
    with sqlite3.connect(radius_db) as conn:
        # The last insert of the transaction fails, after radcheck got its rows.
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON radusergroup "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(ProvisioningUnavailable, match="disk full") as raised:
        freeradius_sql.issue(make_credential())
    assert "Hx4tRw9q" not in str(raised.value)
    assert rows(radius_db, "SELECT count(*) FROM radcheck") == [(0,)]
    assert freeradius_sql.usernames() == set()


def test_a_locked_database_is_unavailable_and_keeps_the_password_out_of_the_message(
    freeradius_sql: FreeRadiusSqlProvisioner, radius_db: Path, make_credential: CredentialFactory
) -> None:
    freeradius_sql.check()
    blocker = sqlite3.connect(radius_db)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(ProvisioningUnavailable, match="locked") as raised:
            freeradius_sql.issue(make_credential())
        assert "Hx4tRw9q" not in str(raised.value)
    finally:
        blocker.rollback()
        blocker.close()
    freeradius_sql.issue(make_credential())
    assert freeradius_sql.usernames() == {"p7k2m9"}


def test_an_unreachable_database_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{tmp_path}/no/such/dir/radius.db")
    with pytest.raises(ProvisioningUnavailable, match="unable to open"):
        provisioner.check()
    postgres = FreeRadiusSqlProvisioner(
        "postgresql://radius:dbpass@127.0.0.1:1/radius", timeout=1.0
    )
    with pytest.raises(ProvisioningUnavailable) as raised:
        postgres.check()
    assert "dbpass" not in str(raised.value)
