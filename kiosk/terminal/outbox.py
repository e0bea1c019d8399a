"""The outbox: guestbook entries that could not reach the backend, kept in SQLite until the
sender resends them under their client_ref; a damaged file is set aside, a fresh one started."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk import protocol

log = logging.getLogger("kiosk.outbox")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    client_ref  TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL,
    next_try_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_try_at);
"""
_COLUMNS = "client_ref, body, attempts, last_error, created_at, next_try_at"
MAX_ERROR_CHARS = 500


class OutboxError(Exception):
    """The outbox file cannot be read or written."""


class OutboxFull(OutboxError):
    """The disk (or the outbox's size limit) is full: the entry was NOT stored."""


@dataclass(frozen=True)
class OutboxEntry:
    client_ref: str
    # None only for a dead letter whose stored body cannot be read (a damaged row).
    body: protocol.OutboxBody | None
    attempts: int
    last_error: str
    created_at: float
    next_try_at: float


def _wrap(exc: sqlite3.Error, doing: str) -> OutboxError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or "full" in str(exc).lower():
        return OutboxFull(f"outbox: disk full while {doing}; the visit was not stored ({exc})")
    return OutboxError(f"outbox: {doing} failed: {exc}")


class Outbox:
    """A SQLite file (WAL, synchronous=FULL) holding pending and dead-letter entries.

    Thread-safe: one connection, every statement under one lock.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Entries carry member numbers: owner-only from the first byte. SQLite gives
                # the -wal and -shm files the same mode as the database.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            with self._db:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise _wrap(exc, f"opening {self.path}") from exc
        except OSError as exc:
            raise OutboxError(f"outbox: cannot open {self.path}: {exc}") from exc

    def _execute(self, doing: str, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, params)
            except sqlite3.Error as exc:
                raise _wrap(exc, doing) from exc

    def _query(
        self, doing: str, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _wrap(exc, doing) from exc

    def put(self, visit: protocol.OutboxBody, *, now: float | None = None) -> None:
        """Store a visit to send later; on disk (fsynced) when this returns. Putting the same
        client_ref again keeps the first entry."""
        at = time.time() if now is None else now
        if isinstance(visit, protocol.VisitRequest) and visit.verification is not None:
            # A birth date is personal data: it never waits on disk (/visits ignores it).
            visit = visit.model_copy(update={"verification": None})
        # autocommit mode: the INSERT is its own transaction, committed (WAL, FULL sync)
        # before execute() returns.
        self._execute(
            "storing a visit",
            "INSERT OR IGNORE INTO outbox (client_ref, body, created_at, next_try_at)"
            " VALUES (?, ?, ?, ?)",
            (str(visit.client_ref), visit.model_dump_json(), at, at),
        )

    def due(self, now: float, limit: int = 20) -> list[OutboxEntry]:
        """Pending entries whose next try is due, oldest first."""
        rows = self._query(
            "reading due visits",
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND next_try_at <= ?"
            " ORDER BY next_try_at, created_at LIMIT ?",
            (now, limit),
        )
        entries = []
        for row in rows:
            entry = self._entry(row)
            if entry is not None:
                entries.append(entry)
        return entries

    def _entry(self, row: tuple[Any, ...]) -> OutboxEntry | None:
        client_ref, body, attempts, last_error, created_at, next_try_at = row
        try:
            visit = protocol.stored_visit(body)
        except ValidationError as exc:
            # Only a hand-edited or damaged file gets here; keep the row for staff to see.
            self.mark_dead(client_ref, f"stored entry unreadable: {exc.errors()[0]['msg']}")
            return None
        return OutboxEntry(client_ref, visit, attempts, last_error, created_at, next_try_at)

    def mark_sent(self, client_ref: str) -> None:
        """The backend has the visit: forget it here (the backend is the record)."""
        self._execute(
            "removing a sent visit", "DELETE FROM outbox WHERE client_ref = ?", (client_ref,)
        )

    def retry_later(
        self, client_ref: str, error: str, delay: float, *, now: float | None = None
    ) -> None:
        at = time.time() if now is None else now
        self._execute(
            "rescheduling a visit",
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try_at = ?"
            " WHERE client_ref = ? AND state = 'pending'",
            (error[:MAX_ERROR_CHARS], at + max(delay, 0.0), client_ref),
        )

    def mark_dead(self, client_ref: str, reason: str) -> None:
        """The backend refused the entry for good (a 4xx): keep it as a dead letter for staff."""
        self._execute(
            "moving a visit to dead letters",
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?"
            " WHERE client_ref = ?",
            (reason[:MAX_ERROR_CHARS], client_ref),
        )

    def pending_count(self) -> int:
        rows = self._query("counting visits", "SELECT count(*) FROM outbox WHERE state = 'pending'")
        return int(rows[0][0])

    def next_try_at(self) -> float | None:
        """When the earliest pending entry is due, or None when nothing is pending."""
        rows = self._query(
            "reading the schedule",
            "SELECT min(next_try_at) FROM outbox WHERE state = 'pending'",
        )
        value = rows[0][0]
        return None if value is None else float(value)

    def dead_letters(self) -> list[OutboxEntry]:
        rows = self._query(
            "reading dead letters",
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'dead' ORDER BY created_at",
        )
        entries = []
        for client_ref, body, attempts, last_error, created_at, next_try_at in rows:
            try:
                visit: protocol.OutboxBody | None
                visit = protocol.stored_visit(body)
            except ValidationError:
                visit = None  # staff still see it: when, and last_error says why
            entries.append(
                OutboxEntry(client_ref, visit, attempts, last_error, created_at, next_try_at)
            )
        return entries

    def close(self) -> None:
        with self._lock:
            self._db.close()


# The damaged-file lines keep the logger name operators know.
damage_log = logging.getLogger("kiosk.outbox_file")

SET_ASIDE_PATTERN = "outbox.corrupt-*.sqlite3"


def outbox_damage(path: Path) -> str | None:
    """Why the outbox file at `path` cannot be used, or None when it can (or is absent)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        db = sqlite3.connect(path, timeout=10.0)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
            db.execute("SELECT count(*) FROM outbox").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:  # not a database, malformed, no outbox table
        return str(exc)
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return "; ".join(problems[:3]) or None


def set_aside_outboxes(path: Path) -> list[Path]:
    """Damaged outbox files set aside next to `path`, oldest first."""
    return sorted(path.parent.glob(SET_ASIDE_PATTERN))


def open_outbox(path: Path | str) -> Outbox:
    """The outbox at `path`. A damaged file is renamed `outbox.corrupt-<UTC time>.sqlite3`
    (with its -wal/-shm), logged, and a fresh outbox starts, so the kiosk still starts;
    the visits in the old file were not sent and stay there for whoever looks into it."""
    path = Path(path)
    damage = outbox_damage(path)
    if damage is not None:
        aside = _set_aside(path)
        damage_log.error(
            "outbox %s is damaged (%s): moved aside as %s, a fresh outbox starts; "
            "visits kept in the old file were not sent",
            path,
            damage,
            aside.name,
        )
    return Outbox(path)


def _set_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"outbox.corrupt-{stamp}.sqlite3")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"outbox.corrupt-{stamp}-{number}.sqlite3")
    path.rename(aside)
    aside.chmod(0o600)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    return aside
