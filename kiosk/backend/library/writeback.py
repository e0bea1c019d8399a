"""The write-back queue: visits bound for the library's own guestbook table, added in the
visit's transaction and drained in order, exactly once, whatever the library's database does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import WritebackRow, read_session, write_session
from kiosk.backend.library.link import (
    LibraryRefused,
    LibraryUnavailable,
    LibraryVisit,
    MemberSource,
    classify,
)
from kiosk.backend.steering.locations import place_of

log = logging.getLogger("kiosk.backend.writeback")

# A drainer that died mid-write (a restart) leaves its claim; the next takes over after
# this, and the library-side check (same member, same second) keeps it to one row.
CLAIM_SECONDS = 60


def enqueue(
    session: Session, system: str, client_ref: str, visit: LibraryVisit, now: dt.datetime
) -> None:
    """Queue one visit; call inside the transaction that records the visit."""
    payload = {
        "member_id": visit.member_id,
        "name": visit.name,
        "institution": visit.institution,
        "checkin_at": visit.checkin_at.isoformat(),
        "kiosk_id": visit.kiosk_id,
        "answers": visit.answers,
        "group_size": visit.group_size,
    }
    session.add(
        WritebackRow(
            client_ref=client_ref,
            system=system,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            state="waiting",
            attempts=0,
            created_at=now,
        )
    )


def _visit(row: WritebackRow) -> LibraryVisit:
    data = json.loads(row.payload)
    return LibraryVisit(
        member_id=data["member_id"],
        name=data["name"],
        institution=data["institution"],
        checkin_at=dt.datetime.fromisoformat(data["checkin_at"]),
        kiosk_id=data["kiosk_id"],
        answers=data["answers"],
        group_size=int(data.get("group_size", 1)),  # queued before groups were written
    )


@dataclass
class DrainReport:
    written: int = 0
    already_there: int = 0
    set_aside: int = 0
    passed: int = 0  # refused this round, left waiting for the next (the rest went on)
    stopped: str = ""  # why the round ended early ('' when the queue is empty)
    reached: bool | None = None  # whether the library's database last answered (None: not asked)


def _claim(
    engine: Engine, system: str, now: dt.datetime, after_id: int = 0
) -> tuple[int, LibraryVisit] | None:
    """The oldest waiting entry after `after_id`, claimed; None when there is none or another
    drainer has it (order matters: nobody skips ahead of an entry being written)."""
    with write_session(engine) as session:
        row = session.scalars(
            sa.select(WritebackRow)
            .where(
                WritebackRow.state == "waiting",
                WritebackRow.system == system,
                WritebackRow.id > after_id,
            )
            .order_by(WritebackRow.id)
            .limit(1)
            .with_for_update()
        ).first()
        if row is None or (row.claimed_until is not None and row.claimed_until > now):
            return None
        row.claimed_until = now + dt.timedelta(seconds=CLAIM_SECONDS)
        # Where the kiosk stands when the visit is written (usually seconds after it).
        visit = _visit(row)
        place = place_of(session, visit.kiosk_id)
        visit = dataclasses.replace(visit, room_code=place.room_code, location_id=place.location_id)
        return row.id, visit


def _settle(
    engine: Engine, entry_id: int, now: dt.datetime, *, error: str = "", give_up: int = 0
) -> str:
    """Mark an entry written (no error) or note the error; returns its new state."""
    with write_session(engine) as session:
        row = session.get(WritebackRow, entry_id)
        assert row is not None
        row.claimed_until = None
        if not error:
            row.state, row.written_at, row.last_error = "written", now, None
            return row.state
        row.attempts += 1
        row.last_error = error[:500]
        if give_up and row.attempts >= give_up:
            row.state = "failed"
        return row.state


def drain_once(
    engine: Engine,
    source: MemberSource,
    clock: Callable[[], dt.datetime],
    *,
    max_attempts: int,
    limit: int = 500,
) -> DrainReport:
    """Write waiting visits in order until the queue is empty, the library's database stops
    answering, or `limit` entries are done. A visit the database refuses (that very row:
    a value it will not take) waits for the next round, and the ones behind it go on; after
    `max_attempts` refusals it is set aside."""
    report = DrainReport()
    after_id = 0
    for _ in range(limit):
        claimed = _claim(engine, source.name, clock(), after_id)
        if claimed is None:
            return report
        entry_id, visit = claimed
        try:
            try:
                wrote = source.write_visit(visit)
            except sa.exc.SQLAlchemyError as exc:
                raise classify(exc) from exc
        except LibraryUnavailable as exc:
            _settle(engine, entry_id, clock(), error=str(exc))
            report.stopped = f"library database unavailable: {exc}"
            report.reached = False
            return report
        except LibraryRefused as exc:
            report.reached = True  # it answered, with a refusal
            after_id = entry_id
            state = _settle(engine, entry_id, clock(), error=str(exc), give_up=max_attempts)
            if state == "failed":
                log.error(
                    "writeback entry=%s to %s set aside after %s attempts: %s",
                    entry_id,
                    source.name,
                    max_attempts,
                    exc,
                )
                report.set_aside += 1
            else:
                report.passed += 1
            continue
        report.reached = True
        _settle(engine, entry_id, clock())
        if wrote:
            report.written += 1
        else:
            report.already_there += 1
    return report


@dataclass(frozen=True)
class Backlog:
    waiting: int
    failed: int
    oldest_waiting: dt.datetime | None
    last_error: str | None


def backlog(engine: Engine) -> Backlog:
    """What staff see: visits waiting, visits set aside, and the newest error."""
    with read_session(engine) as session:
        counts = dict(
            session.execute(
                sa.select(WritebackRow.state, sa.func.count())
                .where(WritebackRow.state != "written")
                .group_by(WritebackRow.state)
            ).all()
        )
        oldest = session.scalar(
            sa.select(sa.func.min(WritebackRow.created_at)).where(WritebackRow.state == "waiting")
        )
        error = session.scalar(
            sa.select(WritebackRow.last_error)
            .where(WritebackRow.state != "written", WritebackRow.last_error.is_not(None))
            .order_by(WritebackRow.id.desc())
            .limit(1)
        )
    if isinstance(oldest, dt.datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return Backlog(int(counts.get("waiting", 0)), int(counts.get("failed", 0)), oldest, error)


def retry_failed(engine: Engine) -> int:
    """Put visits set aside back in the queue (after staff fixed the cause)."""
    with write_session(engine) as session:
        result = session.execute(
            sa.update(WritebackRow)
            .where(WritebackRow.state == "failed")
            .values(state="waiting", attempts=0)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
