"""Wrong sign-ins counted per address and per name-and-address: a guesser is slowed down
where it guesses from, and nobody can lock an account out by typing its name."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kiosk.backend.console.tables import StaffLoginFailureRow

WINDOW = dt.timedelta(minutes=15)
PER_NAME_AND_ADDRESS = 5
# A library's staff share one address behind its router: room for all of them mistyping.
PER_ADDRESS = 20


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """The two counters one sign-in attempt touches."""

    name: str
    address: str

    @property
    def name_digest(self) -> str:
        return _digest("name:" + self.name)

    @property
    def limits(self) -> list[tuple[str, str | None, int]]:
        """(key, name digest, limit) for the address and for the name from the address."""
        return [
            (_digest("address:" + self.address), None, PER_ADDRESS),
            (
                _digest(f"name-address:{self.name}\n{self.address}"),
                self.name_digest,
                PER_NAME_AND_ADDRESS,
            ),
        ]


def _live(row: StaffLoginFailureRow | None, now: dt.datetime) -> int:
    return row.failures if row is not None and now - row.window_start < WINDOW else 0


def held_back(session: Session, attempt: Attempt, now: dt.datetime) -> bool:
    """Has this address, or this name from this address, used up its wrong tries?"""
    for key, _, limit in attempt.limits:
        if _live(session.get(StaffLoginFailureRow, key), now) >= limit:
            return True
    return False


def count_failure(session: Session, attempt: Attempt, now: dt.datetime) -> bool:
    """Count one wrong try on both counters; True when one of them has just filled up."""
    filled = False
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    for key, name_digest, limit in attempt.limits:
        session.execute(
            insert(StaffLoginFailureRow)
            .values(key=key, name_digest=name_digest, failures=0, window_start=now)
            .on_conflict_do_nothing(index_elements=[StaffLoginFailureRow.key])
        )
        row = session.get(StaffLoginFailureRow, key, with_for_update=True, populate_existing=True)
        assert row is not None
        if now - row.window_start >= WINDOW:
            row.failures, row.window_start = 0, now
        row.failures += 1
        filled = filled or row.failures == limit
    session.execute(
        sa.delete(StaffLoginFailureRow).where(StaffLoginFailureRow.window_start < now - WINDOW)
    )
    return filled


def forget_name(session: Session, name: str, address: str | None = None) -> None:
    """A right password (from `address`) or an admin's unlock (from everywhere)."""
    attempt = Attempt(name, address or "")
    if address is not None:
        session.execute(
            sa.delete(StaffLoginFailureRow).where(StaffLoginFailureRow.key == attempt.limits[1][0])
        )
    else:
        session.execute(
            sa.delete(StaffLoginFailureRow).where(
                StaffLoginFailureRow.name_digest == attempt.name_digest
            )
        )


def held_back_names(session: Session, names: list[str], now: dt.datetime) -> set[str]:
    """Which of these accounts some address may not try for now (shown on Accounts)."""
    by_digest = {Attempt(name, "").name_digest: name for name in names}
    rows = session.scalars(
        sa.select(StaffLoginFailureRow).where(
            StaffLoginFailureRow.name_digest.in_(list(by_digest)),
            StaffLoginFailureRow.failures >= PER_NAME_AND_ADDRESS,
            StaffLoginFailureRow.window_start >= now - WINDOW,
        )
    )
    return {by_digest[row.name_digest] for row in rows if row.name_digest in by_digest}
