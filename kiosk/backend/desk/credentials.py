"""Wi-Fi credentials: the library's reuse rule, validity, and username/password generation."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import CredentialRow, GuestVisitRow
from kiosk.backend.desk.statements import USERNAME_TAKEN, HeldCredential
from kiosk.backend.desk.transaction import DeskTransaction
from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.config import CredentialSettings

# Read aloud or copied from the kiosk's screen onto a phone: lower case only (no letter
# that differs from another by case) and none of the look-alikes 0/o, 1/l/i, 2/z, 5/s,
# 9/q, u/v. 26 characters: log2(26) = 4.70 bits each, so the default 10-character
# password holds 47 bits and the shortest allowed (9) 42.3 bits.
CREDENTIAL_ALPHABET = "abcdefghjkmnprtwxy23456789"
PASSWORD_ALPHABET = CREDENTIAL_ALPHABET
USERNAME_ALPHABET = CREDENTIAL_ALPHABET
USERNAME_ATTEMPTS = 50


class UsernameExhausted(Exception):
    """No free username after many draws: [credentials] username_length is too short."""


def password_bits(length: int) -> float:
    """The entropy of a random password of `length` characters, in bits."""
    return length * math.log2(len(PASSWORD_ALPHABET))


def generate_password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def random_username(settings: CredentialSettings) -> str:
    body = "".join(secrets.choice(USERNAME_ALPHABET) for _ in range(settings.username_length))
    return f"{settings.username_prefix}{body}"


def choose_username(
    settings: CredentialSettings, member_id: str, taken: Callable[[str], bool]
) -> str:
    """A username for a new credential. "random" draws from `secrets` until `taken` says
    no (it must see every username ever issued, under the issuing lock); "member-id" is
    the member id itself, which the library chose to allow."""
    if settings.username_style == "member-id":
        return f"{settings.username_prefix}{member_id.lower()}"
    for _ in range(USERNAME_ATTEMPTS):
        candidate = random_username(settings)
        if not taken(candidate):
            return candidate
    raise UsernameExhausted(
        f"no free username after {USERNAME_ATTEMPTS} draws; raise [credentials] username_length"
    )


def end_of_membership(expires_on: dt.date, timezone: ZoneInfo) -> dt.datetime:
    """The instant the member's last day ends (midnight after it, library time), in UTC."""
    next_day = expires_on + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time(), tzinfo=timezone).astimezone(dt.UTC)


def credential_expiry(
    issued_at: dt.datetime,
    valid_days: int,
    member_expires_on: dt.date | None,
    timezone: ZoneInfo,
) -> dt.datetime:
    """`valid_days` 24-hour days from issue, never past the end of the membership."""
    expiry = issued_at.astimezone(dt.UTC) + dt.timedelta(days=valid_days)
    if member_expires_on is not None:
        expiry = min(expiry, end_of_membership(member_expires_on, timezone))
    return expiry


def is_valid(row: CredentialRow, now: dt.datetime) -> bool:
    return not row.revoked and row.expires_at > now


def valid_credential(session: Session, member_id: str, now: dt.datetime) -> CredentialRow | None:
    """The member's credential that is still valid (the newest, should there be two)."""
    return session.scalars(
        sa.select(CredentialRow)
        .where(
            CredentialRow.member_id == member_id,
            CredentialRow.pending.is_(False),
            CredentialRow.revoked.is_(False),
            CredentialRow.expires_at > now,
        )
        .order_by(CredentialRow.expires_at.desc())
        .limit(1)
    ).first()


def username_taken(session: Session, username: str) -> bool:
    """Was this username ever given, as a member's credential or a guest's voucher?"""
    return bool(session.scalar(USERNAME_TAKEN, {"username": username}))


def insert_credential(
    desk: DeskTransaction,
    settings: CredentialSettings,
    member_id: str,
    expires_at: dt.datetime,
    kiosk_id: str,
    now: dt.datetime,
    *,
    pending: bool,
) -> HeldCredential:
    """A new credential row for the member, under the issuing lock (the caller holds it):
    pending (to be confirmed) while issuing crosses the network."""
    statements = desk.statements

    def taken(name: str) -> bool:
        row = desk.first(statements.username_taken, username=name)
        return bool(row and row[0])

    username = choose_username(settings, member_id, taken)
    password = generate_password(settings.password_length)
    credential_id = desk.inserted(
        statements.insert_credential,
        member_id=member_id,
        username=username,
        password=password,
        issued_at=now,
        expires_at=expires_at,
        revoked=False,
        pending=pending,
        kiosk_id=kiosk_id,
    )
    return HeldCredential(credential_id, username, password, expires_at, now, pending)


def _guest_network(row: GuestVisitRow) -> NetworkCredential:
    assert row.username is not None and row.password is not None and row.expires_at is not None
    return NetworkCredential(
        username=row.username,
        password=row.password,
        expires_at=row.expires_at,
        kind="group" if row.group_size > 1 else "guest",
    )


def to_network(row: CredentialRow | HeldCredential) -> NetworkCredential:
    return NetworkCredential(
        username=row.username, password=row.password, expires_at=row.expires_at
    )


def active_credentials(session: Session, now: dt.datetime) -> list[NetworkCredential]:
    """Every credential the network side should let in at `now` (for reconciliation).

    Pending ones count: they are being issued right now, and a reconciliation running
    meanwhile must not remove them; one whose issue fails is deleted, and goes next time."""
    rows = session.scalars(
        sa.select(CredentialRow)
        .where(CredentialRow.revoked.is_(False), CredentialRow.expires_at > now)
        .order_by(CredentialRow.id)
    )
    guests = session.scalars(
        sa.select(GuestVisitRow)
        .where(
            GuestVisitRow.username.is_not(None),
            GuestVisitRow.revoked.is_(False),
            GuestVisitRow.expires_at > now,
        )
        .order_by(GuestVisitRow.id)
    )
    return [to_network(row) for row in rows] + [_guest_network(row) for row in guests]


def expired_credentials(
    session: Session, now: dt.datetime, since: dt.datetime | None = None
) -> list[NetworkCredential]:
    """Credentials past their expiry at `now` (optionally only those that expired after
    `since`) or revoked: what the network side should no longer hold."""
    condition = sa.or_(CredentialRow.revoked.is_(True), CredentialRow.expires_at <= now)
    query = sa.select(CredentialRow).where(condition, CredentialRow.pending.is_(False))
    if since is not None:
        query = query.where(CredentialRow.expires_at > since)
    members = [to_network(row) for row in session.scalars(query.order_by(CredentialRow.id))]
    guest_condition = sa.or_(GuestVisitRow.revoked.is_(True), GuestVisitRow.expires_at <= now)
    guests = sa.select(GuestVisitRow).where(
        GuestVisitRow.username.is_not(None), guest_condition, GuestVisitRow.pending.is_(False)
    )
    if since is not None:
        guests = guests.where(GuestVisitRow.expires_at > since)
    return members + [
        _guest_network(row) for row in session.scalars(guests.order_by(GuestVisitRow.id))
    ]


def revoke_credential(session: Session, username: str) -> int:
    """Mark every credential of that username revoked; returns how many rows changed."""
    result = session.execute(
        sa.update(CredentialRow)
        .where(CredentialRow.username == username, CredentialRow.revoked.is_(False))
        .values(revoked=True)
    )
    guests = session.execute(
        sa.update(GuestVisitRow)
        .where(GuestVisitRow.username == username, GuestVisitRow.revoked.is_(False))
        .values(revoked=True)
    )
    return int(result.rowcount or 0) + int(guests.rowcount or 0)  # type: ignore[attr-defined]
