"""Staff sessions kept in the database (shared by every backend instance), with a CSRF
token each, a 30-minute idle timeout and a 12-hour absolute lifetime."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.console.tables import StaffAccountRow, StaffSessionRow

IDLE_TIMEOUT = dt.timedelta(minutes=30)
# However busy: a session signed in at the morning shift does not outlive the day.
LIFETIME = dt.timedelta(hours=12)
# last_seen is written at most this often, not on every page view.
TOUCH_EVERY = dt.timedelta(seconds=60)
COOKIE = "kiosk_staff"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StaffSession:
    key: str
    account_id: int
    username: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def open_session(session: Session, account_id: int, address: str, now: dt.datetime) -> str:
    """A new session; returns the cookie value (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        StaffSessionRow(
            id=_digest(secret),
            account_id=account_id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            last_seen=now,
            address=address[:64],
        )
    )
    session.execute(
        sa.delete(StaffSessionRow).where(
            sa.or_(
                StaffSessionRow.last_seen < now - IDLE_TIMEOUT,
                StaffSessionRow.created_at < now - LIFETIME,
            )
        )
    )
    return secret


def load_session(session: Session, secret: str | None, now: dt.datetime) -> StaffSession | None:
    """The live session of this cookie (and touch it), or None: unknown, idle for 30 min,
    older than 12 h, or its account disabled."""
    if not secret:
        return None
    found = session.execute(
        sa.select(StaffSessionRow, StaffAccountRow)
        .join(StaffAccountRow, StaffAccountRow.id == StaffSessionRow.account_id)
        .where(StaffSessionRow.id == _digest(secret))
    ).first()
    if found is None:
        return None
    row, account = found
    expired = now - row.last_seen > IDLE_TIMEOUT or now - row.created_at > LIFETIME
    if expired or account.disabled:
        session.delete(row)
        return None
    if now - row.last_seen > TOUCH_EVERY:
        row.last_seen = now
    return StaffSession(row.id, account.id, account.username, account.role, row.csrf)


def close_session(session: Session, key: str) -> None:
    session.execute(sa.delete(StaffSessionRow).where(StaffSessionRow.id == key))


def close_cookie_session(session: Session, secret: str | None) -> None:
    """End the session this cookie names, if any: a browser holds one session at a time."""
    if secret:
        close_session(session, _digest(secret))


def close_account_sessions(session: Session, account_id: int) -> None:
    session.execute(sa.delete(StaffSessionRow).where(StaffSessionRow.account_id == account_id))


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), (given or "").encode())
