"""One-time enrollment codes: made in the console or CLI, traded once by a new kiosk for a token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from kiosk.backend import kiosks
from kiosk.backend.db import Base, KioskRow, UTCDateTime

# Letters and digits a person reads back without doubt: no 0/O, no 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_LIFETIME = dt.timedelta(hours=24)


class EnrollmentCodeRow(Base):
    """A code's SHA-256 (never the code), the kiosk id and location it enrolls, and its life."""

    __tablename__ = "enrollment_codes"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    location: Mapped[str] = mapped_column(sa.String(32), default="")
    made_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CodeRefused(ValueError):
    """A code that enrolls nothing; `reason` is wrong, used or expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def plain(code: str) -> str:
    """The code as stored: capitals, no dash or spaces ("k7qd-3m9p" -> "K7QD3M9P")."""
    return "".join(code.split()).replace("-", "").upper()


def shown(code: str) -> str:
    """The code as people read it: two groups of four ("K7QD-3M9P")."""
    code = plain(code)
    return f"{code[:4]}-{code[4:]}"


def code_hash(code: str) -> str:
    # 31^8 codes, valid a day, one use, five wrong tries per address: a plain hash suffices.
    return hashlib.sha256(plain(code).encode("ascii", "replace")).hexdigest()


def make_code(
    session: Session, kiosk_id: str, location: str, made_by: str, now: dt.datetime
) -> tuple[str, EnrollmentCodeRow]:
    """A new code for `kiosk_id` (shown once); earlier pending codes for it stop working.
    KioskExists if the kiosk is registered and not revoked."""
    row = session.get(KioskRow, kiosk_id)
    if row is not None and row.token_hash is not None and row.revoked_at is None:
        raise kiosks.KioskExists(kiosk_id)
    for earlier in pending(session, now, kiosk_id):
        earlier.revoked_at = now
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    made = EnrollmentCodeRow(
        code_hash=code_hash(code),
        kiosk_id=kiosk_id,
        location=location,
        made_by=made_by[:64],
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    session.add(made)
    session.flush()
    return shown(code), made


def redeem(session: Session, code: str, now: dt.datetime) -> tuple[EnrollmentCodeRow, str]:
    """Trade a code for the kiosk's registration: (the code's row, the new token), or
    CodeRefused with nothing changed."""
    row = session.scalar(
        sa.select(EnrollmentCodeRow)
        .where(EnrollmentCodeRow.code_hash == code_hash(code))
        .with_for_update()
    )
    if row is None or row.revoked_at is not None:
        raise CodeRefused("wrong", "this enrollment code is not known: check it in the console")
    if row.used_at is not None:
        raise CodeRefused("used", "this enrollment code was used already: make a new one")
    if now >= row.expires_at:
        raise CodeRefused("expired", "this enrollment code has expired: make a new one")
    try:
        token = kiosks.register(session, row.kiosk_id, row.kiosk_id, now)
    except kiosks.KioskExists:
        raise CodeRefused(
            "used", f"kiosk {row.kiosk_id} is registered already: revoke it first"
        ) from None
    kiosk = session.get(KioskRow, row.kiosk_id)
    assert kiosk is not None
    kiosk.location = row.location
    row.used_at = now
    return row, token


def pending(session: Session, now: dt.datetime, kiosk_id: str = "") -> list[EnrollmentCodeRow]:
    """Codes not used, revoked or expired (of one kiosk id, if given), newest first."""
    query = sa.select(EnrollmentCodeRow).where(
        EnrollmentCodeRow.used_at.is_(None),
        EnrollmentCodeRow.revoked_at.is_(None),
        EnrollmentCodeRow.expires_at > now,
    )
    if kiosk_id:
        query = query.where(EnrollmentCodeRow.kiosk_id == kiosk_id)
    return list(session.scalars(query.order_by(EnrollmentCodeRow.id.desc())))


def revoke_code(session: Session, code_id: int, now: dt.datetime) -> EnrollmentCodeRow | None:
    """Stop a pending code; the row, or None when there was no such pending code."""
    row = session.get(EnrollmentCodeRow, code_id)
    if row is None or row.used_at is not None or row.revoked_at is not None:
        return None
    row.revoked_at = now
    return row
