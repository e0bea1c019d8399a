"""Reconciliation on both real network sides (FreeRADIUS SQL on SQLite, the RouterOS stand-in):
it repairs both directions, leaves staff accounts alone, reports a bad user and goes on."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.routeros_fake import FakeRouterOS

from kiosk.backend.provisioning.base import (
    NetworkCredential,
    Provisioner,
    ProvisioningUnavailable,
)
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.local import LocalProvisioner
from kiosk.backend.provisioning.mikrotik import MikrotikProvisioner
from kiosk.backend.provisioning.reconcile import ReconcileReport, reconcile

if TYPE_CHECKING:
    from provisioning.conftest import CredentialFactory


@dataclass
class NetworkSide:
    provisioner: Provisioner
    add_staff_user: Callable[[str], None]
    staff_users: Callable[[], set[str]]
    go_down: Callable[[], None]


@pytest.fixture(params=["freeradius-sql", "mikrotik-rest"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NetworkSide]:
    if request.param == "freeradius-sql":
        provisioner: FreeRadiusSqlProvisioner = request.getfixturevalue("freeradius_sql")
        database: Path = request.getfixturevalue("radius_db")
        provisioner.check()
        blockers: list[sqlite3.Connection] = []

        def add_staff(name: str) -> None:
            with sqlite3.connect(database) as conn:
                conn.execute(
                    "INSERT INTO radcheck (username, attribute, op, value) "
                    "VALUES (?, 'Cleartext-Password', ':=', 'staff-secret')",
                    (name,),
                )

        def staff() -> set[str]:
            with sqlite3.connect(database) as conn:
                found = conn.execute(
                    "SELECT username FROM radcheck WHERE value = 'staff-secret'"
                ).fetchall()
            return {name for (name,) in found}

        def lock() -> None:
            blocker = sqlite3.connect(database)
            blocker.execute("BEGIN EXCLUSIVE")
            blockers.append(blocker)

        yield NetworkSide(provisioner, add_staff, staff, lock)
        for blocker in blockers:
            blocker.close()
    else:
        router: FakeRouterOS = request.getfixturevalue("router")
        mikrotik: MikrotikProvisioner = request.getfixturevalue("mikrotik")

        def staff_on_router() -> set[str]:
            with router.state.lock:
                return {
                    u["name"]
                    for u in router.state.users.values()
                    if u.get("password") == "staff-secret"
                }

        yield NetworkSide(
            mikrotik,
            lambda name: router.add_user(name, password="staff-secret", comment="staff") and None,
            staff_on_router,
            router.stop,
        )


def test_missing_credentials_are_created_and_stale_or_expired_ones_fixed(
    side: NetworkSide, make_credential: CredentialFactory, settled: dt.datetime
) -> None:
    p = side.provisioner
    kept = make_credential(username="pkeep01", password="keep-pw")
    stale = make_credential(username="pstale2", password="old-pw", hours=1)
    expired = make_credential(username="pgone03", password="gone-pw")
    for credential in (kept, stale, expired):
        p.issue(credential)
    fresh = make_credential(username="pstale2", password="new-pw", hours=3)
    missing = make_credential(username="pnew004", password="new-one")
    # pgone03 ran out: the backend no longer counts it among the active ones.
    report = reconcile(p, [kept, fresh, missing], settled)
    assert (report.created, report.updated, report.removed, report.errors) == (1, 1, 1, 0)
    assert p.current() == {"pkeep01": kept, "pstale2": fresh, "pnew004": missing}
    # A second run finds nothing to do.
    assert reconcile(p, [kept, fresh, missing], settled) == ReconcileReport()


def test_a_credential_past_its_expiry_is_removed_even_if_passed_as_active(
    side: NetworkSide, make_credential: CredentialFactory, settled: dt.datetime
) -> None:
    lapsed = make_credential(username="plapse1", hours=-0.5)
    side.provisioner.issue(make_credential(username="plapse1", hours=1))
    report = reconcile(side.provisioner, [lapsed], settled)
    assert report.removed == 1
    assert side.provisioner.usernames() == set()


def test_a_user_issued_moments_ago_is_left_for_a_later_round(
    side: NetworkSide, make_credential: CredentialFactory, now: dt.datetime, settled: dt.datetime
) -> None:
    # A check-in wrote it to the network side and has not committed yet: not a leftover.
    side.provisioner.issue(make_credential(username="pcommit"))
    assert reconcile(side.provisioner, [], now).removed == 0
    assert side.provisioner.usernames() == {"pcommit"}
    assert reconcile(side.provisioner, [], settled).removed == 1
    assert side.provisioner.usernames() == set()


def test_staff_accounts_are_neither_removed_nor_overwritten(
    side: NetworkSide,
    make_credential: CredentialFactory,
    now: dt.datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    side.add_staff_user("pustakawan")
    clash = make_credential(username="pustakawan", password="patron-pw")
    good = make_credential(username="pgood01")
    with caplog.at_level(logging.WARNING):
        report = reconcile(side.provisioner, [clash, good], now)
    assert (report.created, report.errors) == (1, 1)
    assert report.problems and report.problems[0].startswith("pustakawan:")
    assert side.staff_users() == {"pustakawan"}
    assert side.provisioner.usernames() == {"pgood01"}
    assert "patron-pw" not in caplog.text


def test_a_network_side_that_is_down_raises_unavailable(
    side: NetworkSide, make_credential: CredentialFactory, now: dt.datetime
) -> None:
    side.go_down()
    with pytest.raises(ProvisioningUnavailable):
        reconcile(side.provisioner, [make_credential()], now)


def test_local_provisioner_has_nothing_to_reconcile(
    make_credential: CredentialFactory, now: dt.datetime
) -> None:
    assert reconcile(LocalProvisioner(), [make_credential()], now) == ReconcileReport()


def test_one_users_surprise_does_not_stop_the_others(now: dt.datetime) -> None:
    class Flaky(LocalProvisioner):
        name = "flaky"
        made: list[str] = []

        def issue(self, credential: NetworkCredential) -> None:
            if credential.username == "pbad001":
                raise RuntimeError("unexpected")
            self.made.append(credential.username)

    later = now + dt.timedelta(hours=1)
    active = [NetworkCredential(n, "pw-123456", later) for n in ("pbad001", "pgood02")]
    report = reconcile(Flaky(), active, now)
    assert (report.created, report.errors) == (1, 1)
    assert Flaky.made == ["pgood02"]


def test_a_router_that_hides_passwords_is_not_rewritten_every_round(
    router: FakeRouterOS,
    mikrotik: MikrotikProvisioner,
    make_credential: CredentialFactory,
    now: dt.datetime,
) -> None:
    router.hide_passwords = True
    credential = make_credential()
    assert reconcile(mikrotik, [credential], now).created == 1
    assert reconcile(mikrotik, [credential], now) == ReconcileReport()
    longer = make_credential(hours=5)
    assert reconcile(mikrotik, [longer], now).updated == 1
