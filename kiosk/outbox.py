"""The outbox: guestbook entries that could not reach the backend, kept in SQLite, sent later
to POST /visits (a guest's or group's: /guest-visits) under their original client_ref (a
resend is a replay, never a second visit)."""

from __future__ import annotations

import logging
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk import protocol
from kiosk.client import BackendClient, BackendRejected, BackendUnreachable, RateLimited

log = logging.getLogger(__name__)

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

# Answers that say "this kiosk is misconfigured" (wrong token, wrong URL, old backend), not
# "this entry is wrong": the entry waits for staff to fix the kiosk instead of dying.
KIOSK_WIDE_CODES = frozenset(
    {
        protocol.ErrorCode.unauthorized,
        protocol.ErrorCode.not_found,
        protocol.ErrorCode.method_not_allowed,
    }
)


class OutboxError(Exception):
    """The outbox file cannot be read or written."""


class OutboxFull(OutboxError):
    """The disk (or the outbox's size limit) is full: the entry was NOT stored."""


@dataclass(frozen=True)
class OutboxEntry:
    client_ref: str
    # None only for a dead letter whose stored body cannot be read (a damaged row).
    body: protocol.VisitRequest | protocol.GuestVisitRequest | None
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

    def put(
        self, visit: protocol.VisitRequest | protocol.GuestVisitRequest, *, now: float | None = None
    ) -> None:
        """Store a visit to send later; on disk (fsynced) when this returns. Putting the same
        client_ref again keeps the first entry."""
        at = time.time() if now is None else now
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
                visit: protocol.VisitRequest | protocol.GuestVisitRequest | None
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


def backoff_delay(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**(n-1))."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


class OutboxSender:
    """A background thread that sends due outbox entries to POST /visits.

    While the backend is unreachable the sender pauses with backoff (one probe per pause,
    not one per entry); wake() ends a pause at once ("send queued visits now", or the flow
    just reached the backend). on_change(pending_count) is called from the sender thread.
    """

    def __init__(
        self,
        outbox: Outbox,
        client: BackendClient,
        *,
        interval: float = 10.0,
        on_change: Callable[[int], None] | None = None,
        base_delay: float = 2.0,
        max_delay: float = 60.0,
        batch: int = 20,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.interval = interval
        self.on_change = on_change
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused_until = 0.0
        self._rush = False
        self._failures = 0
        self._last_count: int | None = None
        self.sent = 0
        self.dead = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Send every pending visit now, even those waiting out their own backoff."""
        self._rush = True
        self._paused_until = 0.0
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "outbox sender still busy with a call after %.1f s; left to finish", timeout
                )
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass, so a wake() during the pass triggers another one.
            self._wake.clear()
            try:
                self.send_due()
            except Exception:
                # The outbox file itself failing (disk full, I/O error): keep the thread alive
                # and try again later; the entries are still on disk.
                log.exception("outbox pass failed")
                self._pause(self._backoff())
            self._wake.wait(self._seconds_to_next_pass())

    def _seconds_to_next_pass(self) -> float:
        now = time.time()
        wait = self.interval
        if self._paused_until > now:
            return min(max(self._paused_until - now, 0.0), max(self.max_delay, self.interval))
        try:
            due_at = self.outbox.next_try_at()
        except Exception:
            return wait
        if due_at is not None:
            wait = min(wait, max(due_at - now, 0.0))
        return wait

    def _backoff(self) -> float:
        self._failures += 1
        return backoff_delay(
            self._failures, base=self.base_delay, cap=self.max_delay, rng=self._rng
        )

    def _pause(self, seconds: float) -> None:
        self._paused_until = time.time() + seconds

    def send_due(self) -> int:
        """One pass: send every due entry until none is due, the backend fails, or stop().
        Returns how many were sent. Usable without start() (tests, the soak bench)."""
        before = self.sent
        # After wake() or a first success the backend is known to answer: entries waiting
        # out a backoff from when it did not are sent now too.
        rush, self._rush = self._rush, False
        try:
            while not self._stopping.is_set() and time.time() >= self._paused_until:
                horizon = math.inf if rush or self.sent > before else time.time()
                entries = self.outbox.due(horizon, self.batch)
                if not entries:
                    break
                for entry in entries:
                    if self._stopping.is_set():
                        break
                    if not self._send(entry):
                        return self.sent - before
        finally:
            self._report()
        return self.sent - before

    def _send(self, entry: OutboxEntry) -> bool:
        """Send one entry; False when the pass should stop (backend down or limiting us)."""
        try:
            if isinstance(entry.body, protocol.GuestVisitRequest):
                self.client.send_guest_visit(entry.body)
            elif entry.body is not None:  # due() gives only readable entries
                self.client.send_visit(entry.body)
        except RateLimited as exc:
            delay = max(exc.retry_after, 0.5)
            self.outbox.retry_later(entry.client_ref, "rate limited", delay)
            self._pause(delay)
            log.info("outbox: rate limited, waiting %.1f s", delay)
            return False
        except BackendRejected as exc:
            if (
                exc.status is not None
                and 400 <= exc.status < 500
                and exc.code not in KIOSK_WIDE_CODES
            ):
                self.outbox.mark_dead(entry.client_ref, f"{exc.status} {exc.code}: {exc.message}")
                self.dead += 1
                log.warning(
                    "outbox: visit %s refused (%s %s), kept as a dead letter",
                    entry.client_ref,
                    exc.status,
                    exc.code,
                )
                return True
            delay = self._backoff()
            self.outbox.retry_later(
                entry.client_ref, f"{exc.status} {exc.code}: {exc.message}", delay
            )
            self._pause(delay)
            log.warning("outbox: backend refused this kiosk (%s), retry in %.0f s", exc.code, delay)
            return False
        except BackendUnreachable as exc:
            delay = self._backoff()
            self.outbox.retry_later(entry.client_ref, exc.message, delay)
            self._pause(delay)
            log.info("outbox: backend unreachable (%s), retry in %.0f s", exc.code, delay)
            return False
        self.outbox.mark_sent(entry.client_ref)
        self._failures = 0
        self.sent += 1
        log.info("outbox: visit %s sent", entry.client_ref)
        return True

    def _report(self) -> None:
        if self.on_change is None:
            return
        try:
            count = self.outbox.pending_count()
        except OutboxError:
            return
        if count != self._last_count:
            self._last_count = count
            try:
                self.on_change(count)
            except Exception:
                log.exception("outbox on_change callback failed")
