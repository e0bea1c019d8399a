"""The member source behind one interface (find by card id, list for a sync) and the library
database's connection: live answers refresh the local copy, which serves when it is down."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from kiosk.backend.db import LibraryContactRow, MemberRow, read_session, write_session
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
    gender: str | None = None  # the guest form's choice key (library/gender.py); None: unknown


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
    # The kiosk's location's SLiMS room_code and INLISLite Location_Id (None: the global
    # [members.slims] room_code / [members.inlislite] location_id).
    room_code: str | None = None
    location_id: int | None = None


@dataclass(frozen=True)
class UnreadableMember:
    """A row of the library's member table the kiosk cannot take (a sync counts and names it)."""

    id: str
    reason: str


class MemberSource(Protocol):
    name: str

    def find(self, member_id: str) -> LibraryMember | None: ...

    def close(self) -> None: ...

    def members(self) -> Iterator[LibraryMember | UnreadableMember]: ...

    def write_visit(self, visit: LibraryVisit) -> bool:
        """Insert unless the same visit is already there; True when a row was written."""
        ...


# The library's text columns: SLiMS's are utf8 (utf8mb3: no character beyond U+FFFF, so no
# emoji and no rarer CJK or historic scripts), INLISLite's latin1 (MariaDB's latin1 is cp1252).
REPLACEMENT = "?"  # what MariaDB itself writes for a character a column cannot hold


def holds(charset: str, character: str) -> bool:
    """Whether a column of `charset` ('utf8mb3' or 'latin1') can store `character`."""
    if charset == "utf8mb3":
        return ord(character) <= 0xFFFF
    try:
        character.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str, charset: str, length: int) -> str:
    """`text` as a `charset` column of `length` characters can hold it: a character it cannot
    hold becomes its compatibility form when that fits (the styled letters of a pasted name,
    '𝓢𝓲𝓽𝓲' -> 'Siti'; in latin1 also full-width 'Ｕｎｉｖ' -> 'Univ'), else '?'; then cut
    to `length`."""
    kept = []
    for character in text:
        if holds(charset, character):
            kept.append(character)
            continue
        plain = unicodedata.normalize("NFKC", character)
        kept.append(plain if all(holds(charset, c) for c in plain) else REPLACEMENT)
    return "".join(kept)[:length]


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
) -> Iterator[LibraryMember | UnreadableMember]:
    """Every member of `key`'s table in key order, MEMBER_PAGE rows per query; a row that
    cannot be read comes as an UnreadableMember, and the rest still come."""
    last: str | None = None
    while True:
        query = sa.select(key.table).order_by(key).limit(MEMBER_PAGE)
        with engine.connect() as connection:
            rows = connection.execute(query if last is None else query.where(key > last)).all()
        for row in rows:
            yield _read_member(row, key, to_member)
        if len(rows) < MEMBER_PAGE:
            return
        last = str(rows[-1]._mapping[key.name])


def _read_member(
    row: Any, key: sa.Column[Any], to_member: Callable[[Any], LibraryMember]
) -> LibraryMember | UnreadableMember:
    member_id = str(row._mapping[key.name] or "")
    if not member_id.strip():
        return UnreadableMember(member_id, "no member number")
    try:
        return to_member(row)
    except (ValueError, TypeError) as exc:
        return UnreadableMember(member_id, f"{type(exc).__name__}: {exc}")


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
    """Live lookups with the local copy (`members`) as the fallback and the cache; the
    library database's state as the last real contact left it."""

    def __init__(self, source: MemberSource, engine: Engine, timeout: float = 2.0) -> None:
        self.source = source
        self.engine = engine
        self.timeout = timeout
        # A lookup runs here so that `timeout` bounds all of it (pool, ping, connect,
        # handshake, query), also against a server that hangs instead of refusing; what
        # runs on after the patron got the copy ends by its own socket timeouts.
        self._askers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="library-lookup")
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._noted: tuple[bool, float] | None = None  # what this process last wrote down

    def refresh(self, member_id: str, now: dt.datetime) -> str:
        """Ask the library for one member and update the copy: 'library' (live answer,
        copy refreshed), 'gone' (the library has no such member), 'copy' (no answer)."""
        with self._lock:
            failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < RETRY_LIVE_AFTER_SECONDS:
            return "copy"
        try:
            member = self._ask(member_id)
        except (LibraryUnavailable, LibraryRefused) as exc:
            self.failed(exc, now)
            return "copy"
        self.answered(now)
        if member is None:
            return "gone"
        with write_session(self.engine) as session:
            store(session, member, now)
        return "library"

    def _ask(self, member_id: str) -> LibraryMember | None:
        """source.find within self.timeout, whatever the server does."""
        try:
            asked = self._askers.submit(self.source.find, member_id)
        except RuntimeError as exc:  # shut down: the backend is stopping
            raise LibraryUnavailable(str(exc)) from exc
        try:
            return asked.result(timeout=self.timeout)
        except FutureTimeout:
            asked.cancel()
            raise LibraryUnavailable(f"no answer within {self.timeout:g} s") from None
        except sa.exc.SQLAlchemyError as exc:
            raise classify(exc) from exc

    def close(self) -> None:
        self._askers.shutdown(wait=False, cancel_futures=True)

    def failed(self, exc: Exception, now: dt.datetime) -> None:
        """The library's database did not answer (a lookup, a write-back)."""
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
        if first:
            log.warning("library database %s unavailable: %s", self.source.name, exc)
        if self._due(answers=False):
            note_contact(self.engine, self.source.name, now, error=str(exc))

    def answered(self, now: dt.datetime) -> None:
        """The library's database answered (a lookup, a write-back)."""
        with self._lock:
            was_down = self._failed_at is not None
            self._failed_at = None
        if was_down:
            log.info("library database %s answers again", self.source.name)
        if self._due(answers=True):
            note_contact(self.engine, self.source.name, now)

    def _due(self, *, answers: bool) -> bool:
        """Whether to write this contact down: a change from what this process last wrote,
        else at most every NOTE_EVERY_SECONDS (another process may have written since)."""
        with self._lock:
            noted, at = self._noted, time.monotonic()
            due = noted is None or noted[0] != answers or at - noted[1] >= NOTE_EVERY_SECONDS
            if due:
                self._noted = (answers, at)
            return due

    def state(self) -> str:
        """'ok', or why the local copy is serving: the last contact anyone wrote down."""
        with self._lock:
            failing_here = self._failed_at is not None
        with read_session(self.engine) as session:
            row = session.get(LibraryContactRow, self.source.name)
        if row is None or row.failed_at is None:
            return "unavailable; serving the local copy" if failing_here else "ok"
        if row.answered_at is not None and row.answered_at >= row.failed_at:
            return "ok"
        return f"unavailable ({row.last_error}); serving the local copy"


# An unchanged state is written down again after this long (several backend processes and
# `kiosk members sync` share the record; a change is written at once).
NOTE_EVERY_SECONDS = 30.0


def note_contact(engine: Engine, system: str, now: dt.datetime, *, error: str = "") -> None:
    """Write down that the library's database answered (no error) or did not, for /health."""
    try:
        with write_session(engine) as session:
            row = session.get(LibraryContactRow, system)
            if row is None:
                row = LibraryContactRow(system=system)
                session.add(row)
            if error:
                row.failed_at, row.last_error = now, error[:500]
            else:
                row.answered_at = now
    except sa.exc.SQLAlchemyError as exc:  # our own database: its trouble shows elsewhere
        log.warning("library contact of %s not written down: %s", system, exc)


def store(session: Session, member: LibraryMember, now: dt.datetime) -> str:
    """Put one member in the local copy: 'added', 'updated' or 'unchanged'."""
    row = session.get(MemberRow, member.id)
    values = (
        member.name,
        member.status.value,
        member.expires_on,
        member.institution,
        member.birth_date,
        member.gender,
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
                gender=member.gender,
                updated_at=now,
            )
        )
        return "added"
    if (row.name, row.status, row.expires_on, row.institution, row.birth_date, row.gender) == (
        values
    ):
        return "unchanged"
    row.name, row.status, row.expires_on, row.institution, row.birth_date, row.gender = values
    row.updated_at = now
    return "updated"


@dataclass
class MemberSync:
    """What one sync did: counts per outcome, and the rows it could not take."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "updated": 0, "unchanged": 0}
    )
    unreadable: list[UnreadableMember] = field(default_factory=list)


def sync_members(source: MemberSource, engine: Engine, now: dt.datetime) -> MemberSync:
    """Copy the library's whole member table into the local copy (never deletes: the copy
    holds credentials and visits of members the library may have archived). A row that
    cannot be read is left out and named; the others are copied."""
    result = MemberSync()
    batch: list[LibraryMember] = []

    def flush() -> None:
        with write_session(engine) as session:
            for member in batch:
                result.counts[store(session, member, now)] += 1
        batch.clear()

    try:
        for member in source.members():
            if isinstance(member, UnreadableMember):
                log.warning(
                    "members sync: %s member %r left out: %s", source.name, member.id, member.reason
                )
                result.unreadable.append(member)
                continue
            batch.append(member)
            if len(batch) >= 500:
                flush()
    except sa.exc.SQLAlchemyError as exc:
        raise classify(exc) from exc
    flush()
    return result


def insert_once(
    engine: Engine, table: sa.Table, values: dict[str, Any], same: sa.Select[Any]
) -> bool:
    """Insert `values` into the library's `table` unless `same` finds the row there already:
    its tables give no transaction to lean on, so a retry after a lost answer must write
    nothing. True when the row was written."""
    with engine.connect() as connection:
        if connection.execute(same.limit(1)).first() is not None:
            return False
        connection.execute(sa.insert(table).values(**values))
        connection.commit()
    return True
