"""The member source behind one interface (find by card id, list for a sync) and the library
database's connection: live answers refresh the local copy, which serves when it is down."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from kiosk.backend.db import MemberRow, write_session
from kiosk.protocol import MemberStatus

log = logging.getLogger("kiosk.backend.library")

# After a failed live call, lookups go straight to the copy for this long, so a dead
# library database costs each patron nothing rather than the timeout.
RETRY_LIVE_AFTER_SECONDS = 5.0
# Server codes worth retrying later (too many connections, shutdown, lock wait, deadlock,
# killed); every client code (2000-2999: refused, gone away, lost, timed out) too.
TRANSIENT_SERVER_CODES = {1040, 1053, 1205, 1213, 1927}


class LibraryUnavailable(Exception):
    """The library's database did not answer in time (down, slow, unreachable)."""


class LibraryRefused(Exception):
    """The library's database answered with an error that retrying will not fix."""


@dataclass(frozen=True)
class LibraryMember:
    """A member as the library's system has them, in the kiosk's words."""

    id: str
    name: str
    status: MemberStatus  # blocked or active; expiry applies by date on reading
    expires_on: dt.date | None
    institution: str | None
    birth_date: dt.date | None


@dataclass(frozen=True)
class LibraryVisit:
    """One kiosk visit as the library's guestbook table records it."""

    member_id: str | None  # None: a guest
    name: str
    institution: str | None
    checkin_at: dt.datetime  # naive, the library's wall time, whole seconds
    kiosk_id: str
    answers: dict[str, Any]
    # A group (rombongan) of this many people led by `name` (1: one person).
    group_size: int = 1


class MemberSource(Protocol):
    name: str

    def find(self, member_id: str) -> LibraryMember | None: ...

    def close(self) -> None: ...

    def members(self) -> Iterator[LibraryMember]: ...

    def write_visit(self, visit: LibraryVisit) -> bool:
        """Insert unless the same visit is already there; True when a row was written."""
        ...


MEMBER_PAGE = 1000  # rows per query of a sync: keyset pages, so a big member table streams


def find_member(
    engine: Engine, key: sa.Column[Any], member_id: str, to_member: Callable[[Any], LibraryMember]
) -> LibraryMember | None:
    """The member whose `key` column (the card's number) equals member_id, or None."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(key.table).where(key == member_id).limit(1)).first()
    return None if row is None else to_member(row)


def page_members(
    engine: Engine, key: sa.Column[Any], to_member: Callable[[Any], LibraryMember]
) -> Iterator[LibraryMember]:
    """Every member of `key`'s table in key order, MEMBER_PAGE rows per query."""
    last = ""
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(key.table).where(key > last).order_by(key).limit(MEMBER_PAGE)
            ).all()
        for row in rows:
            yield to_member(row)
        if len(rows) < MEMBER_PAGE:
            return
        last = str(rows[-1]._mapping[key.name])


def classify(exc: sa.exc.SQLAlchemyError) -> Exception:
    """LibraryUnavailable for what a later try may fix, LibraryRefused for the rest."""
    orig = getattr(exc, "orig", None)
    code = orig.args[0] if orig is not None and orig.args else None
    if isinstance(exc, sa.exc.InterfaceError | sa.exc.TimeoutError) or not isinstance(code, int):
        return LibraryUnavailable(f"{type(orig or exc).__name__}: {orig or exc}")
    if 2000 <= code < 3000 or code in TRANSIENT_SERVER_CODES:
        return LibraryUnavailable(f"MySQL error {code}: {orig.args[1] if orig else ''}")
    return LibraryRefused(f"MySQL error {code}: {orig.args[1] if orig else ''}")


def create_library_engine(url: str, timeout: float) -> Engine:
    """A small pool to the library's MariaDB/MySQL, every socket call bounded by `timeout`."""
    if make_url(url).get_backend_name() != "mysql":
        raise ValueError("the library's database_url must be mysql+pymysql://...")
    return sa.create_engine(
        url,
        connect_args={
            "connect_timeout": max(1, round(timeout)),
            "read_timeout": timeout,
            "write_timeout": timeout,
            "charset": "utf8mb4",
        },
        pool_size=4,
        max_overflow=4,
        pool_timeout=timeout,
        pool_pre_ping=True,
        pool_recycle=600,
    )


class MemberCopy:
    """Live lookups with the local copy (`members`) as the fallback and the cache."""

    def __init__(self, source: MemberSource, engine: Engine) -> None:
        self.source = source
        self.engine = engine
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self.last_error = ""
        self.last_ok: dt.datetime | None = None

    def refresh(self, member_id: str, now: dt.datetime) -> str:
        """Ask the library for one member and update the copy: 'library' (live answer,
        copy refreshed), 'gone' (the library has no such member), 'copy' (no answer)."""
        with self._lock:
            failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < RETRY_LIVE_AFTER_SECONDS:
            return "copy"
        try:
            try:
                member = self.source.find(member_id)
            except sa.exc.SQLAlchemyError as exc:
                raise classify(exc) from exc
        except (LibraryUnavailable, LibraryRefused) as exc:
            self._failed(exc)
            return "copy"
        self._answered(now)
        if member is None:
            return "gone"
        with write_session(self.engine) as session:
            store(session, member, now)
        return "library"

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
            self.last_error = str(exc)
        if first:
            log.warning("library database %s unavailable: %s", self.source.name, exc)

    def _answered(self, now: dt.datetime) -> None:
        with self._lock:
            was_down = self._failed_at is not None
            self._failed_at = None
            self.last_error = ""
            self.last_ok = now
        if was_down:
            log.info("library database %s answers again", self.source.name)

    def state(self) -> str:
        """'ok', or why the local copy is serving."""
        with self._lock:
            if self._failed_at is None:
                return "ok"
            return f"unavailable ({self.last_error}); serving the local copy"


def store(session: Session, member: LibraryMember, now: dt.datetime) -> str:
    """Put one member in the local copy: 'added', 'updated' or 'unchanged'."""
    row = session.get(MemberRow, member.id)
    values = (
        member.name,
        member.status.value,
        member.expires_on,
        member.institution,
        member.birth_date,
    )
    if row is None:
        session.add(
            MemberRow(
                id=member.id,
                name=member.name,
                status=member.status.value,
                expires_on=member.expires_on,
                institution=member.institution,
                birth_date=member.birth_date,
                updated_at=now,
            )
        )
        return "added"
    if (row.name, row.status, row.expires_on, row.institution, row.birth_date) == values:
        return "unchanged"
    row.name, row.status, row.expires_on, row.institution, row.birth_date = values
    row.updated_at = now
    return "updated"


def sync_members(source: MemberSource, engine: Engine, now: dt.datetime) -> dict[str, int]:
    """Copy the library's whole member table into the local copy (never deletes: the copy
    holds credentials and visits of members the library may have archived)."""
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    batch: list[LibraryMember] = []

    def flush() -> None:
        with write_session(engine) as session:
            for member in batch:
                counts[store(session, member, now)] += 1
        batch.clear()

    try:
        for member in source.members():
            batch.append(member)
            if len(batch) >= 500:
                flush()
    except sa.exc.SQLAlchemyError as exc:
        raise classify(exc) from exc
    flush()
    return counts
