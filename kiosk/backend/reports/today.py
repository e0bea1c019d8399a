"""Visit and credential statistics for the maintenance screen (GET /stats/today)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import CredentialRow, GuestVisitRow, VisitRow
from kiosk.protocol import StatsToday


def day_bounds(day: dt.date, timezone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar day in the library's time zone, as UTC instants."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=timezone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=timezone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def stats_for_day(session: Session, day: dt.date, timezone: ZoneInfo) -> StatsToday:
    """Visits that occurred that day, credentials created that day, and that day's
    check-ins that showed an existing credential again."""
    start, end = day_bounds(day, timezone)
    in_day = sa.and_(
        VisitRow.occurred_at >= start, VisitRow.occurred_at < end, VisitRow.counted.is_(True)
    )
    visits = session.scalar(sa.select(sa.func.count()).select_from(VisitRow).where(in_day))
    reused = session.scalar(
        sa.select(sa.func.count())
        .select_from(VisitRow)
        .where(in_day, VisitRow.credential_reused.is_(True))
    )
    issued = session.scalar(
        sa.select(sa.func.count())
        .select_from(CredentialRow)
        .where(
            CredentialRow.issued_at >= start,
            CredentialRow.issued_at < end,
            CredentialRow.pending.is_(False),
        )
    )
    in_guest_day = sa.and_(GuestVisitRow.occurred_at >= start, GuestVisitRow.occurred_at < end)
    guests, groups = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(GuestVisitRow.group_size), 0),
            sa.func.coalesce(sa.func.sum(sa.case((GuestVisitRow.group_size > 1, 1), else_=0)), 0),
        ).where(in_guest_day)
    ).one()
    return StatsToday(
        date=day,
        guests=int(guests or 0),
        groups=int(groups or 0),
        visits=int(visits or 0),
        credentials_issued=int(issued or 0),
        credentials_reused=int(reused or 0),
    )
