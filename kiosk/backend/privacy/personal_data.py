"""Members' privacy (UU PDP 27/2022): the retention purge, and a member's export and erasure."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import (
    CredentialRow,
    GuestVisitRow,
    MemberRow,
    VisitRow,
    WritebackRow,
)
from kiosk.backend.privacy import staff_records
from kiosk.backend.privacy.internet_use import erase_sessions, export_sessions, purge_sessions
from kiosk.backend.provisioning.base import Provisioner, ProvisioningUnavailable
from kiosk.backend.provisioning.usage import RecordOfUse, record_of_use

log = logging.getLogger("kiosk.backend.privacy")

# An expired credential's password is kept this long (a patron at the desk asking why it
# stopped working), then cleared; stored replay answers (they hold passwords) this long.
PASSWORD_KEPT = dt.timedelta(days=1)
REPLAY_ANSWER_KEPT = dt.timedelta(hours=48)
# The backend purges at start and then this often; it looks at its clock every POLL so a
# suspended machine or a clock set forward purges soon after.
PURGE_EVERY = dt.timedelta(days=1)
PURGE_RETRY = dt.timedelta(hours=1)
PURGE_POLL_SECONDS = 5.0
ERASE_NETWORK_LATER = "on the network side later (reconciliation removes it)"


@dataclass
class PurgeReport:
    """What one purge changed (row counts)."""

    visits_unlinked: int = 0
    guest_visits_unnamed: int = 0
    passwords_cleared: int = 0
    credentials_deleted: int = 0
    replay_answers_cleared: int = 0
    writeback_cleared: int = 0
    audit_entries_deleted: int = 0
    console_leftovers_deleted: int = 0
    internet_sessions_deleted: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return ", ".join(
            f"{f.name.replace('_', ' ')} {getattr(self, f.name)}" for f in fields(self)
        )


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def _purge_visits(session: Session, cutoff: dt.datetime, report: PurgeReport) -> None:
    """Old visits keep their day, hour, kiosk and answers (the reports), nothing of who."""
    old = sa.and_(VisitRow.occurred_at < cutoff, VisitRow.request_digest != "")
    report.visits_unlinked = _count(
        session.execute(
            sa.update(VisitRow)
            .where(old)
            .values(member_id="", credential_id=None, request_digest="", response="")
        )
    )
    guests = sa.and_(GuestVisitRow.occurred_at < cutoff, GuestVisitRow.request_digest != "")
    # A group's institution is a school or an office (a statistic); a lone guest's, with
    # the time of the visit, can point at one person: it goes with the name.
    institution = sa.case((GuestVisitRow.group_size > 1, GuestVisitRow.institution), else_="")
    report.guest_visits_unnamed = _count(
        session.execute(
            sa.update(GuestVisitRow)
            .where(guests)
            .values(name="", institution=institution, request_digest="", response="")
        )
    )


def _purge_credentials(
    session: Session, now: dt.datetime, cutoff: dt.datetime, report: PurgeReport
) -> None:
    stale = now - PASSWORD_KEPT
    members = session.execute(
        sa.update(CredentialRow)
        .where(
            CredentialRow.expires_at < stale,
            CredentialRow.pending.is_(False),
            CredentialRow.password != "",
        )
        .values(password="")
    )
    guests = session.execute(
        sa.update(GuestVisitRow)
        .where(
            GuestVisitRow.expires_at < stale,
            GuestVisitRow.pending.is_(False),
            GuestVisitRow.password.is_not(None),
        )
        .values(password=None)
    )
    report.passwords_cleared = _count(members) + _count(guests)
    # A credential that ended before the retention links a member to a time: it goes.
    old = sa.select(CredentialRow.id).where(
        CredentialRow.expires_at < cutoff, CredentialRow.pending.is_(False)
    )
    session.execute(
        sa.update(VisitRow).where(VisitRow.credential_id.in_(old)).values(credential_id=None)
    )
    report.credentials_deleted = _count(
        session.execute(sa.delete(CredentialRow).where(CredentialRow.id.in_(old)))
    )


def _purge_replays(
    session: Session, now: dt.datetime, cutoff: dt.datetime, report: PurgeReport
) -> None:
    stale = now - REPLAY_ANSWER_KEPT
    visits = session.execute(
        sa.update(VisitRow)
        .where(VisitRow.received_at < stale, VisitRow.response != "")
        .values(response="")
    )
    guests = session.execute(
        sa.update(GuestVisitRow)
        .where(GuestVisitRow.received_at < stale, GuestVisitRow.response != "")
        .values(response="")
    )
    report.replay_answers_cleared = _count(visits) + _count(guests)
    # A visit written to the library's table keeps only its client_ref (exactly once).
    written = session.execute(
        sa.update(WritebackRow)
        .where(
            WritebackRow.state == "written",
            WritebackRow.written_at < stale,
            WritebackRow.payload != "",
        )
        .values(payload="")
    )
    gone = session.execute(
        sa.delete(WritebackRow).where(
            WritebackRow.created_at < cutoff, WritebackRow.state != "waiting"
        )
    )
    report.writeback_cleared = _count(written) + _count(gone)


def purge(
    engine: Engine,
    retention_days: int,
    now: dt.datetime,
    *,
    dry_run: bool = False,
    record: RecordOfUse | None = None,
) -> PurgeReport:
    """Apply every retention rule at `now` in one transaction (rolled back for a dry run),
    then to the internet sessions in `record` (radacct, in the RADIUS database). Each rule
    changes only rows it has not changed yet, so two instances purging at once are harmless:
    the second finds nothing left."""
    cutoff = now - dt.timedelta(days=retention_days)
    report = PurgeReport()
    with Session(engine.execution_options(kiosk_write=True)) as session:
        session.begin()
        _scrubbing(session)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT pg_advisory_xact_lock(4715002)"))
        # Replays first, so their count does not depend on visits unlinked in the same run.
        _purge_replays(session, now, cutoff, report)
        _purge_credentials(session, now, cutoff, report)
        _purge_visits(session, cutoff, report)
        staff_records.purge(session, now, cutoff, report)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    if not dry_run:
        _flush_wal(engine)
    report.internet_sessions_deleted = purge_sessions(record, cutoff, dry_run=dry_run)
    return report


def _scrubbing(session: Session) -> None:
    """SQLite keeps cleared and deleted values in free space unless told to zero it."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("PRAGMA secure_delete = ON"))


def _flush_wal(engine: Engine) -> None:
    """SQLite: copy the WAL into the database and empty it, so the old values are gone from
    disk too (best effort: a reader in the middle of a transaction leaves it for later)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


async def purge_forever(
    engine: Engine,
    retention_days: int,
    clock: Callable[[], dt.datetime],
    record: RecordOfUse | None = None,
) -> None:
    """At start and then once a day by the clock: purge (until cancelled)."""
    due = clock()
    while True:
        now = clock()
        if now >= due:
            try:
                report = await anyio.to_thread.run_sync(
                    functools.partial(purge, engine, retention_days, now, record=record)
                )
            except Exception as exc:  # keep the loop alive; try again within the hour
                log.error("privacy purge failed: %s: %s", type(exc).__name__, exc)
                due = now + PURGE_RETRY
            else:
                log.info("privacy purge: %s", report)
                due = now + PURGE_EVERY
        await asyncio.sleep(PURGE_POLL_SECONDS)


# ------------------------------------------------------------------ one member


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_member(
    session: Session,
    member_id: str,
    record: RecordOfUse | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """Everything held about the member (no passwords), with their internet sessions when
    `record` is given; None when nothing is held."""
    if not member_id:  # '' marks the visits already unlinked from anyone
        return None
    member = session.get(MemberRow, member_id)
    visits = list(
        session.scalars(
            sa.select(VisitRow)
            .where(VisitRow.member_id == member_id)
            .order_by(VisitRow.occurred_at, VisitRow.id)
        )
    )
    credentials = list(
        session.scalars(
            sa.select(CredentialRow)
            .where(CredentialRow.member_id == member_id)
            .order_by(CredentialRow.issued_at, CredentialRow.id)
        )
    )
    if member is None and not visits and not credentials:
        return None
    refs = [visit.client_ref for visit in visits]
    writeback = {
        row.client_ref: row.state
        for row in session.scalars(sa.select(WritebackRow).where(WritebackRow.client_ref.in_(refs)))
    }
    held = {
        "member": None if member is None else _member(member),
        "visits": [_visit(visit, writeback.get(visit.client_ref)) for visit in visits],
        "credentials": [_credential(row) for row in credentials],
    }
    if record is not None:  # radacct: the sessions of the member's usernames
        usernames = {row.username for row in credentials}
        held["internet_sessions"] = export_sessions(
            record, usernames, now or dt.datetime.now(dt.UTC)
        )
    return held


def _member(row: MemberRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        "institution": row.institution,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "gender": row.gender,
        "updated_at": _when(row.updated_at),
    }


def _visit(row: VisitRow, writeback: str | None) -> dict[str, Any]:
    return {
        "client_ref": row.client_ref,
        "occurred_at": _when(row.occurred_at),
        "received_at": _when(row.received_at),
        "kiosk_id": row.kiosk_id,
        "answers": json.loads(row.answers, parse_constant=lambda _: None),
        "want_internet": row.want_internet,
        "credential_reused": row.credential_reused,
        "counted": row.counted,
        "library_writeback": writeback,
    }


def _credential(row: CredentialRow) -> dict[str, Any]:
    return {
        "username": row.username,
        "issued_at": _when(row.issued_at),
        "expires_at": _when(row.expires_at),
        "revoked": row.revoked,
        "pending": row.pending,
        "kiosk_id": row.kiosk_id,
    }


@dataclass
class EraseReport:
    """What erasing one member removed."""

    member: int = 0
    visits_unlinked: int = 0
    credentials_deleted: int = 0
    writeback_deleted: int = 0
    revoked_on_network: int = 0
    network_later: int = 0
    audit_entries_scrubbed: int = 0
    internet_sessions_deleted: int | None = 0
    internet_record: bool = False  # a record of use (radacct) is kept: say what became of it

    def __str__(self) -> str:
        later = f", {self.network_later} {ERASE_NETWORK_LATER}" if self.network_later else ""
        sessions = str(self.internet_sessions_deleted)
        if self.internet_sessions_deleted is None:
            sessions = "later (the RADIUS database is not answering; the purge removes them)"
        sessions = f", internet sessions deleted {sessions}" if self.internet_record else ""
        return (
            f"member record {self.member}, visits unlinked {self.visits_unlinked} (answers kept "
            f"for statistics), credentials deleted {self.credentials_deleted} (revoked on the "
            f"network side {self.revoked_on_network}{later}), library write-back entries "
            f"deleted {self.writeback_deleted}, audit entries no longer naming them "
            f"{self.audit_entries_scrubbed}{sessions}"
        )


def erase_member(
    engine: Engine, provisioner: Provisioner, member_id: str, now: dt.datetime
) -> EraseReport | None:
    """Remove the member, their credentials and write-back entries, unlink their visits,
    then revoke their live credentials on the network side. None: nothing was held."""
    if not member_id:
        return None
    report = EraseReport()
    with Session(engine.execution_options(kiosk_write=True)) as session, session.begin():
        _scrubbing(session)
        member = session.scalars(
            sa.select(MemberRow).where(MemberRow.id == member_id).with_for_update()
        ).first()
        refs = list(
            session.scalars(sa.select(VisitRow.client_ref).where(VisitRow.member_id == member_id))
        )
        credentials = list(
            session.scalars(sa.select(CredentialRow).where(CredentialRow.member_id == member_id))
        )
        if member is None and not refs and not credentials:
            return None
        live = sorted({c.username for c in credentials if not c.revoked and c.expires_at > now})
        for chunk in range(0, len(refs), 500):
            report.writeback_deleted += _count(
                session.execute(
                    sa.delete(WritebackRow).where(
                        WritebackRow.client_ref.in_(refs[chunk : chunk + 500])
                    )
                )
            )
        report.visits_unlinked = _count(
            session.execute(
                sa.update(VisitRow)
                .where(VisitRow.member_id == member_id)
                .values(member_id="", credential_id=None, request_digest="", response="")
            )
        )
        usernames = sorted({c.username for c in credentials})
        report.audit_entries_scrubbed = staff_records.erase(session, member_id, usernames)
        report.credentials_deleted = _count(
            session.execute(sa.delete(CredentialRow).where(CredentialRow.member_id == member_id))
        )
        if member is not None:
            session.delete(member)
            report.member = 1
    _flush_wal(engine)
    for username in live:
        try:
            provisioner.revoke(username)
        except ProvisioningUnavailable:
            report.network_later += 1
        else:
            report.revoked_on_network += 1
    record = record_of_use(provisioner)
    if record is not None:
        report.internet_record = True
        report.internet_sessions_deleted = erase_sessions(record, usernames)
    return report
