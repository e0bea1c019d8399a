"""Staff accounts: argon2id password hashes, roles, and checking a sign-in."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from kiosk.backend.console import login_limits
from kiosk.backend.console.sessions import close_account_sessions
from kiosk.backend.console.tables import StaffAccountRow

log = logging.getLogger("kiosk.backend.console")

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()  # argon2id, the library's default parameters
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """A bad username, password or role: said in words for the command line, and as a
    catalog key (`key`) for the console."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class LoginRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # wrong | unknown | held_back | disabled


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: str


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"the password needs at least {MIN_PASSWORD} characters", "accounts.error.password"
        )


def add_account(
    session: Session, username: str, password: str, role: str, now: dt.datetime
) -> StaffAccountRow:
    if not _USERNAME.match(username):
        raise AccountError(
            "username: 2-64 lower-case letters, digits, '.', '_' or '-'", "accounts.error.username"
        )
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "accounts.error.role")
    check_password(password)
    if find_account(session, username) is not None:
        raise AccountError(f"there is already an account {username!r}", "accounts.error.exists")
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
    """A new password ends every session of the account: whoever knew the old one is out."""
    check_password(password)
    row = _existing(session, username)
    row.password_hash = _hasher.hash(password)
    row.failed_logins = 0
    row.locked_until = None
    close_account_sessions(session, row.id)


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    _existing(session, username).disabled = disabled


def set_role(session: Session, username: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "accounts.error.role")
    _existing(session, username).role = role


def _existing(session: Session, username: str) -> StaffAccountRow:
    row = find_account(session, username)
    if row is None:
        raise AccountError(f"no account {username!r}", "accounts.error.unknown")
    return row


def all_accounts(session: Session) -> list[StaffAccountRow]:
    return list(session.scalars(sa.select(StaffAccountRow).order_by(StaffAccountRow.username)))


def authenticate(
    session: Session, username: str, password: str, address: str, now: dt.datetime
) -> StaffMember | LoginRefused:
    """The account if the password is right and this address may still try; else why not,
    for the log only (the console answers every refusal alike). Exactly one argon2
    verification whatever the case, so the time taken does not tell a wrong password from
    an unknown name or a held-back address. Returned, not raised: the caller's transaction
    commits the count."""
    attempt = login_limits.Attempt(username, address)
    row = session.scalar(sa.select(StaffAccountRow).where(StaffAccountRow.username == username))
    verified = _verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    if login_limits.held_back(session, attempt, now):
        return LoginRefused("held_back")
    if row is None or not verified:
        if login_limits.count_failure(session, attempt, now):
            log.warning(
                "staff login: %s held back for 15 min after too many wrong passwords",
                address,
            )
        return LoginRefused("unknown" if row is None else "wrong")
    if row.disabled:
        return LoginRefused("disabled")
    login_limits.forget_name(session, username, address)
    row.last_login = now
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return StaffMember(row.id, row.username, row.role)


def change_own_password(
    session: Session, username: str, current: str, new: str, address: str, now: dt.datetime
) -> bool:
    """A signed-in member's new password, if `current` is theirs (a wrong one counts like a
    wrong sign-in from this address, so the form is no way around the limits)."""
    attempt = login_limits.Attempt(username, address)
    row = _existing(session, username)
    verified = _verify(row.password_hash, current)
    if login_limits.held_back(session, attempt, now) or not verified:
        if not verified:
            login_limits.count_failure(session, attempt, now)
        return False
    set_password(session, username, new)
    return True


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
