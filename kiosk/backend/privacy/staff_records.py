"""What the staff console keeps about people (its audit log, wrong sign-in counts, checked
member files), purged and erased under the privacy rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


# The console's tables, named here without importing the console (it sits above privacy).
STAFF_AUDIT = sa.table("staff_audit", sa.column("at"), sa.column("action"), sa.column("detail"))
STAFF_LOGIN_FAILURES = sa.table("staff_login_failures", sa.column("window_start"))
MEMBER_UPLOADS = sa.table("member_uploads", sa.column("created_at"))
LOGIN_FAILURES_KEPT = dt.timedelta(minutes=15)
MEMBER_UPLOAD_KEPT = dt.timedelta(hours=1)
ERASED = "[erased]"


def purge(session: Session, now: dt.datetime, cutoff: dt.datetime, report: Any) -> None:
    """The audit log keeps `retention_days` (its details name members and credentials);
    failed sign-in counts and checked member files outlive their use by nothing."""
    report.audit_entries_deleted = _count(
        session.execute(sa.delete(STAFF_AUDIT).where(STAFF_AUDIT.c.at < cutoff))
    )
    report.console_leftovers_deleted = _count(
        session.execute(
            sa.delete(STAFF_LOGIN_FAILURES).where(
                STAFF_LOGIN_FAILURES.c.window_start < now - LOGIN_FAILURES_KEPT
            )
        )
    ) + _count(
        session.execute(
            sa.delete(MEMBER_UPLOADS).where(MEMBER_UPLOADS.c.created_at < now - MEMBER_UPLOAD_KEPT)
        )
    )


def erase(session: Session, member_id: str, usernames: list[str]) -> int:
    """The audit log keeps who did what and when, but no longer whom it was done to; the
    number of entries changed."""
    named = [f"member={member_id}"] + [f"username={name}" for name in usernames]
    about = [STAFF_AUDIT.c.detail.contains(text, autoescape=True) for text in named]
    credential_entry = STAFF_AUDIT.c.action.startswith("credential.")
    entries = session.scalar(
        sa.select(sa.func.count()).select_from(STAFF_AUDIT).where(credential_entry, sa.or_(*about))
    )
    for text, names in zip(named, about, strict=True):
        erased = text.split("=", 1)[0] + "=" + ERASED
        session.execute(
            sa.update(STAFF_AUDIT)
            .where(credential_entry, names)
            .values(detail=sa.func.replace(STAFF_AUDIT.c.detail, text, erased))
        )
    return int(entries or 0)
