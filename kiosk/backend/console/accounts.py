"""Staff accounts: argon2id password hashes, roles, and the lockout after wrong passwords."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from kiosk.backend.console.tables import StaffAccountRow

log = logging.getLogger("kiosk.backend.console")

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()  # argon2id, the library's default parameters
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """A bad username, password or role, said in words for the command line."""


class LoginRefused(Exception):
    def __init__(self, reason: str, locked_until: dt.datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # wrong | locked | disabled
        self.locked_until = locked_until


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: str


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")


def add_account(
    session: Session, username: str, password: str, role: str, now: dt.datetime
) -> StaffAccountRow:
    if not _USERNAME.match(username):
        raise AccountError("username: 2-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    if find_account(session, username) is not None:
        raise AccountError(f"there is already an account {username!r}")
    row = StaffAccountRow(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        disabled=False,
        failed_logins=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_account(session: Session, username: str) -> StaffAccountRow | None:
    return session.scalar(sa.select(StaffAccountRow).where(StaffAccountRow.username == username))


def set_password(session: Session, username: str, password: str) -> None:
    check_password(password)
    row = _existing(session, username)
    row.password_hash = _hasher.hash(password)
    row.failed_logins = 0
    row.locked_until = None


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    _existing(session, username).disabled = disabled


def set_role(session: Session, username: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    _existing(session, username).role = role


def _existing(session: Session, username: str) -> StaffAccountRow:
    row = find_account(session, username)
    if row is None:
        raise AccountError(f"no account {username!r}")
    return row


def all_accounts(session: Session) -> list[StaffAccountRow]:
    return list(session.scalars(sa.select(StaffAccountRow).order_by(StaffAccountRow.username)))


def authenticate(
    session: Session, username: str, password: str, now: dt.datetime
) -> StaffMember | LoginRefused:
    """The account if the password is right, else why not (returned, not raised, so the
    caller's transaction commits the count); 5 wrong ones in a row lock it for 15 min."""
    row = session.scalar(
        sa.select(StaffAccountRow).where(StaffAccountRow.username == username).with_for_update()
    )
    if row is None:
        _verify(_DUMMY_HASH, password)
        return LoginRefused("wrong")
    if row.locked_until is not None and row.locked_until > now:
        return LoginRefused("locked", row.locked_until)
    if not _verify(row.password_hash, password):
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until = now + LOCKOUT
            row.failed_logins = 0
            log.warning(
                "staff login: account %r locked for 15 min after 5 wrong passwords", username
            )
            return LoginRefused("locked", row.locked_until)
        return LoginRefused("wrong")
    if row.disabled:
        return LoginRefused("disabled")
    row.failed_logins = 0
    row.locked_until = None
    row.last_login = now
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return StaffMember(row.id, row.username, row.role)


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
