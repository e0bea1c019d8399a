"""Database layer: migrations match the tables, UTC storage, the check-in desk in-process,
reconciliation hand-off, and the app's background reconcile loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine

from kiosk.backend.app import create_app
from kiosk.backend.backup import backup_database
from kiosk.backend.db import (
    MIGRATIONS,
    Base,
    CredentialRow,
    MemberRow,
    create_db_engine,
    migrate,
    read_session,
    write_session,
)
from kiosk.backend.desk.checkins import CheckinDesk
from kiosk.backend.desk.credentials import (
    active_credentials,
    expired_credentials,
    revoke_credential,
)
from kiosk.backend.desk.network_sync import reconcile_once
from kiosk.backend.library.members import MemberRecord, import_members
from kiosk.backend.provisioning.base import (
    CredentialRejected,
    NetworkCredential,
    ProvisioningUnavailable,
)
from kiosk.backend.provisioning.local import LocalProvisioner
from kiosk.config import Settings
from kiosk.protocol import CheckinRequest, MemberStatus

NOW = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)  # 10:00 in Pangkalpinang


class RecordingProvisioner:
    """A network side that remembers what it was told, and can be made to fail."""

    name = "recording"

    def __init__(self) -> None:
        self.held: dict[str, NetworkCredential] = {}
        self.fail_with: Exception | None = None
        self.reconciled = threading.Event()

    def issue(self, credential: NetworkCredential) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.held[credential.username] = credential

    def renew(self, credential: NetworkCredential) -> None:
        self.held[credential.username] = credential

    def revoke(self, username: str) -> None:
        self.held.pop(username, None)

    def follow(self, settings: Settings) -> None:
        pass

    def check(self) -> None:
        return None

    def usernames(self) -> set[str]:
        return set(self.held)

    def current(self) -> dict[str, NetworkCredential]:
        self.reconciled.set()
        return dict(self.held)

    def close(self) -> None:
        return None


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    migrate(engine)
    with write_session(engine) as session:
        import_members(
            session,
            [
                MemberRecord("19000123", "Siti Aminah", MemberStatus.active, None, None),
                MemberRecord(
                    "19000130", "Lim Ai Ling", MemberStatus.active, dt.date(2026, 11, 28), None
                ),
            ],
            replace=False,
            now=NOW,
        )
    yield engine
    engine.dispose()


def settings_for(engine: Engine) -> Settings:
    return Settings().with_overrides(
        backend={"database_url": str(engine.url), "api_tokens": ["desk-test-token-0001"]}
    )


def checkin(card: str = "19000123") -> CheckinRequest:
    return CheckinRequest(
        client_ref=uuid.uuid4(),
        card=card,
        answers={"purpose": "internet"},
        kiosk_id="kiosk-1",
        occurred_at=NOW,
    )


def test_migrations_build_exactly_the_tables_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_times_are_stored_as_utc_and_read_back_aware(engine: Engine) -> None:
    jakarta = dt.timezone(dt.timedelta(hours=7))
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    request = checkin()
    request.occurred_at = dt.datetime(2026, 11, 28, 9, 30, tzinfo=jakarta)
    visit = desk.record(request, allow_credential=False).response.visit
    assert visit.occurred_at == dt.datetime(2026, 11, 28, 2, 30, tzinfo=dt.UTC)
    with sqlite3.connect(engine.url.database or "") as db:
        stored = db.execute("SELECT occurred_at FROM visits").fetchone()[0]
    assert stored.startswith("2026-11-28 02:30:00")


def test_credential_ends_with_the_membership_day(engine: Engine) -> None:
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    credential = desk.record(checkin("19000130"), allow_credential=True).response.credential
    assert credential is not None
    # Membership ends 2026-11-28: the credential ends at midnight Jakarta, 17:00 UTC.
    assert credential.expires_at == dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "failure", [ProvisioningUnavailable("router down"), CredentialRejected("name refused")]
)
def test_network_refusal_records_no_visit_and_no_credential(
    engine: Engine, failure: Exception
) -> None:
    network = RecordingProvisioner()
    network.fail_with = failure
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    with pytest.raises(ProvisioningUnavailable):
        desk.record(checkin(), allow_credential=True)
    with read_session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CredentialRow)) == 0
        assert session.scalar(sa.text("SELECT count(*) FROM visits")) == 0


def test_credential_is_pushed_to_the_network_before_it_is_shown(engine: Engine) -> None:
    network = RecordingProvisioner()
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    credential = desk.record(checkin(), allow_credential=True).response.credential
    assert credential is not None
    assert network.held[credential.username].password == credential.password


def test_active_expired_and_revoked_credentials_for_reconciliation(engine: Engine) -> None:
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    first = desk.record(checkin("19000123"), allow_credential=True).response.credential
    second = desk.record(checkin("19000130"), allow_credential=True).response.credential
    assert first is not None and second is not None
    with read_session(engine) as session:
        assert {c.username for c in active_credentials(session, NOW)} == {
            first.username,
            second.username,
        }
        later = NOW + dt.timedelta(hours=20)  # past 19000130's membership end
        assert [c.username for c in active_credentials(session, later)] == [first.username]
        assert [c.username for c in expired_credentials(session, later)] == [second.username]
    with write_session(engine) as session:
        assert revoke_credential(session, first.username) == 1
    with read_session(engine) as session:
        assert [c.username for c in active_credentials(session, NOW)] == [second.username]
        assert first.username in {c.username for c in expired_credentials(session, NOW)}
    # A revoked credential is not reused: the member gets a new one.
    again = desk.record(checkin("19000123"), allow_credential=True).response.credential
    assert again is not None and again.reused is False and again.username != first.username


def test_reconcile_once_hands_active_credentials_to_the_network(engine: Engine) -> None:
    network = RecordingProvisioner()
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    credential = desk.record(checkin(), allow_credential=True).response.credential
    assert credential is not None
    network.held.clear()  # the router lost its users (reset, replaced)
    network.held["pstale1"] = NetworkCredential("pstale1", "x", NOW)
    report = reconcile_once(engine, network, NOW)
    assert report.created == 1 and report.removed == 1
    assert set(network.held) == {credential.username}


def test_reconcile_with_the_local_provisioner_reads_nothing(engine: Engine) -> None:
    """The backend is the only record there: each instance loading every active credential
    every minute only paused its check-ins."""
    desk = CheckinDesk(engine, settings_for(engine), LocalProvisioner(), clock=lambda: NOW)
    assert desk.record(checkin(), allow_credential=True).response.credential is not None
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    report = reconcile_once(engine, LocalProvisioner(), NOW)
    assert statements == [] and report.created == report.removed == report.errors == 0


def test_the_app_reconciles_in_the_background(engine: Engine) -> None:
    settings = settings_for(engine).with_overrides(provisioning={"reconcile_seconds": 0.05})
    network = RecordingProvisioner()
    app = create_app(settings, provisioner=network)

    async def run() -> bool:
        async with app.router.lifespan_context(app):
            return await asyncio.to_thread(network.reconciled.wait, 10)

    assert asyncio.run(run()) is True


def test_replace_import_deletes_members_and_their_credentials(engine: Engine) -> None:
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    desk.record(checkin("19000130"), allow_credential=True)
    with write_session(engine) as session:
        keep = [MemberRecord("19000123", "Siti Aminah", MemberStatus.active, None, None)]
        result = import_members(session, keep, replace=True, now=NOW)
    assert result.deleted == 1
    with read_session(engine) as session:
        assert session.get(MemberRow, "19000130") is None
        assert active_credentials(session, NOW) == []


def test_backup_of_a_database_being_written(engine: Engine, tmp_path: Path) -> None:
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    for _ in range(20):
        desk.record(checkin(), allow_credential=False)
    destination = tmp_path / "copy" / "kiosk.db"
    how = backup_database(str(engine.url), destination)
    assert "online backup" in how
    with sqlite3.connect(destination) as db:
        assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 20


class SlowNetwork(RecordingProvisioner):
    """The first issue() blocks until released, as a router that is slow to answer."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        self.calls = 0

    def issue(self, credential: NetworkCredential) -> None:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(10)
            if self.fail:
                raise ProvisioningUnavailable("router timed out")
        super().issue(credential)


def watch_waiting(desk: CheckinDesk) -> threading.Event:
    """An event set when a check-in starts waiting for another one's pending credential."""
    waiting = threading.Event()

    def pause(seconds: float) -> None:
        waiting.set()
        time.sleep(seconds)

    desk.pause = pause
    return waiting


def test_a_slow_network_side_does_not_hold_up_other_members(engine: Engine) -> None:
    network = SlowNetwork()
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    waiting = watch_waiting(desk)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(desk.record, checkin("19000123"), allow_credential=True)
        assert network.entered.wait(10)
        # While 19000123's credential is at the router, another member checks in at once.
        other = desk.record(checkin("19000130"), allow_credential=True)
        assert other.response.credential is not None
        assert desk.record(checkin("19000130"), allow_credential=False).replay is False
        # A second check-in of the same member waits for the first and then reuses it.
        second = pool.submit(desk.record, checkin("19000123"), allow_credential=True)
        assert waiting.wait(10)
        network.release.set()
        first_credential = first.result(timeout=10).response.credential
        second_credential = second.result(timeout=10).response.credential
    assert first_credential is not None and second_credential is not None
    assert first_credential.reused is False and second_credential.reused is True
    assert second_credential.password == first_credential.password
    with read_session(engine) as session:
        query = sa.select(CredentialRow).where(CredentialRow.member_id == "19000123")
        rows = session.scalars(query)
        assert [(row.pending, row.username) for row in rows] == [(False, first_credential.username)]


def test_when_the_awaited_issue_fails_the_waiting_checkin_fails_too(engine: Engine) -> None:
    network = SlowNetwork(fail=True)
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    waiting = watch_waiting(desk)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(desk.record, checkin("19000123"), allow_credential=True)
        assert network.entered.wait(10)
        second = pool.submit(desk.record, checkin("19000123"), allow_credential=True)
        assert waiting.wait(10)
        network.release.set()
        for outcome in (first, second):
            with pytest.raises(ProvisioningUnavailable):
                outcome.result(timeout=10)
    assert network.calls == 1  # the waiting one did not hammer a failing router
    with read_session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CredentialRow)) == 0
        assert session.scalar(sa.text("SELECT count(*) FROM visits")) == 0


def test_a_pending_credential_abandoned_by_a_dead_request_is_cleared(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(
            CredentialRow(
                member_id="19000123",
                username="pdead01",
                password="x",
                issued_at=NOW - dt.timedelta(minutes=10),
                expires_at=NOW + dt.timedelta(hours=14),
                revoked=False,
                pending=True,
                kiosk_id="kiosk-1",
            )
        )
    with read_session(engine) as session:
        # Meanwhile reconciliation keeps it on the network side, as it may be mid-issue.
        assert [c.username for c in active_credentials(session, NOW)] == ["pdead01"]
    desk = CheckinDesk(engine, settings_for(engine), RecordingProvisioner(), clock=lambda: NOW)
    credential = desk.record(checkin(), allow_credential=True).response.credential
    assert credential is not None and credential.reused is False
    with read_session(engine) as session:
        assert [c.username for c in active_credentials(session, NOW)] == [credential.username]


def count_commits(engine: Engine) -> list[int]:
    commits: list[int] = []
    sa.event.listen(engine, "commit", lambda _connection: commits.append(1))
    return commits


def test_a_local_credential_is_issued_in_the_check_ins_one_transaction(engine: Engine) -> None:
    # Nothing crosses the network with the local provisioner: no reservation, no lease and
    # no confirming transaction, so SQLite's one writer is held once per check-in (issue 14).

    desk = CheckinDesk(engine, settings_for(engine), LocalProvisioner(), clock=lambda: NOW)
    commits = count_commits(engine)
    credential = desk.record(checkin(), allow_credential=True).response.credential
    assert credential is not None and len(commits) == 1
    with read_session(engine) as session:
        row = session.scalars(sa.select(CredentialRow)).one()
        assert not row.pending and row.username == credential.username


def test_a_networked_credential_is_reserved_then_confirmed(engine: Engine) -> None:
    # A router or RADIUS call must not hold the write transaction open: reserve, issue
    # outside any transaction, then confirm (the pending lease covers a kill in between).
    network = RecordingProvisioner()
    desk = CheckinDesk(engine, settings_for(engine), network, clock=lambda: NOW)
    commits = count_commits(engine)
    credential = desk.record(checkin(), allow_credential=True).response.credential
    assert credential is not None and len(commits) >= 2
    assert network.held[credential.username].password == credential.password
