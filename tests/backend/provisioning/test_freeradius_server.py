"""The real thing: Debian's FreeRADIUS reads what freeradius-sql wrote and answers a hotspot's
Access-Request with Accept or Reject."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.radius_server import FreeRadiusServer

from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.reconcile import reconcile

if TYPE_CHECKING:
    from provisioning.conftest import CredentialFactory

pytestmark = pytest.mark.freeradius


def test_the_right_password_is_accepted_until_expiry(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
    now: dt.datetime,
) -> None:
    credential = make_credential(hours=2)
    freeradius_sql.issue(credential)
    answer, reply = freeradius.client().answer("p7k2m9", "Hx4tRw9q")
    assert answer == "accept", freeradius.log_tail()
    # rlm_expiration caps the session at the expiry: proof that FreeRADIUS, in its own time
    # zone, read the Expiration value as the same instant the kiosk meant.
    (session_timeout,) = reply["Session-Timeout"]
    assert isinstance(session_timeout, int)
    assert abs(session_timeout - 2 * 3600) <= 5


def test_a_wrong_password_is_rejected(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
) -> None:
    freeradius_sql.issue(make_credential())
    answer, _ = freeradius.client().answer("p7k2m9", "Hx4tRw9x")
    assert answer == "reject"
    answer, _ = freeradius.client().answer("nobody", "Hx4tRw9q")
    assert answer == "reject"


def test_an_expired_credential_is_rejected_by_rlm_expiration(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
) -> None:
    client = freeradius.client()
    freeradius_sql.issue(make_credential(hours=2))
    assert client.answer("p7k2m9", "Hx4tRw9q")[0] == "accept"
    # The same credential, its expiry now a second ago.
    freeradius_sql.renew(make_credential(hours=-1 / 3600))
    assert client.answer("p7k2m9", "Hx4tRw9q")[0] == "reject"
    assert freeradius.wait_for_log("expiration: Account expired at"), freeradius.log_tail()


def test_a_revoked_credential_is_rejected(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
) -> None:
    client = freeradius.client()
    freeradius_sql.issue(make_credential())
    assert client.answer("p7k2m9", "Hx4tRw9q")[0] == "accept"
    freeradius_sql.revoke("p7k2m9")
    assert client.answer("p7k2m9", "Hx4tRw9q")[0] == "reject"


def test_a_renewed_password_replaces_the_old_one(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
) -> None:
    client = freeradius.client()
    freeradius_sql.issue(make_credential(password="old-pass1"))
    freeradius_sql.renew(make_credential(password="new-pass2"))
    assert client.answer("p7k2m9", "old-pass1")[0] == "reject"
    assert client.answer("p7k2m9", "new-pass2")[0] == "accept"


def test_the_group_row_brings_the_group_reply_attributes(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    radius_db: Path,
    make_credential: CredentialFactory,
) -> None:
    freeradius_sql.issue(make_credential())
    with sqlite3.connect(radius_db) as conn:
        conn.execute(
            "INSERT INTO radgroupreply (groupname, attribute, op, value) "
            "VALUES ('perpustakaan', 'Reply-Message', ':=', 'Selamat membaca')"
        )
    answer, reply = freeradius.client().answer("p7k2m9", "Hx4tRw9q")
    assert answer == "accept"
    assert reply["Reply-Message"] == ["Selamat membaca"]


def test_reconcile_takes_an_expired_user_off_and_puts_a_missing_one_on(
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    make_credential: CredentialFactory,
    settled: dt.datetime,
) -> None:
    client = freeradius.client()
    leaving = make_credential(username="pgone01", password="gone-pass")
    freeradius_sql.issue(leaving)
    staying = make_credential(username="pstay02", password="stay-pass")
    report = reconcile(freeradius_sql, [staying], settled)
    assert (report.created, report.removed, report.errors) == (1, 1, 0)
    assert client.answer("pgone01", "gone-pass")[0] == "reject"
    assert client.answer("pstay02", "stay-pass")[0] == "accept"
