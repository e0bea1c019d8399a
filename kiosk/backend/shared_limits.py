"""Limits that hold for the whole backend: events per key and window, counted where every
process that serves the kiosks sees them.

The rule is a sliding window over two fixed windows (the previous one weighted by how much
of it still lies in the last `span` seconds). Where the counts live is the store's job:
- `DatabaseCounts`: the `rate_windows` table, one atomic upsert per event (PostgreSQL and
  SQLite both do `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`), so every uvicorn
  worker and every instance behind the proxy counts together (with two workers twice the
  rate passed when each kept its own bucket);
- `MemoryCounts`: this process's memory, on SQLite (one library's server), where a write
  per request cut what SQLite serves below 100/s. One worker is the whole backend; with N
  workers on the host each allows its share, limit / N, so together they never pass the
  limit (a kiosk whose connections all land on one worker may meet it earlier; a real
  kiosk runs far below it).
`shared_limit(settings, engine, ...)` chooses (`[backend] shared_limits`).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.backend.auth import RateLimited
from kiosk.backend.db import Base, is_sqlite, write_connection
from kiosk.config import BackendSettings

CLEANUP_SHARE = 0.01  # one event in a hundred also deletes windows nobody can read any more


class RateWindowRow(Base):
    """How many events of one key fell in one window (window = epoch seconds // span)."""

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(sa.String(96), primary_key=True)
    window: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)


Admit = Callable[[int, int], bool]  # (previous, current including this one) -> keep it?


class WindowCounts(Protocol):
    def counts(self, key: str, window: int) -> tuple[int, int]:
        """(previous window's count, this window's count)."""
        ...

    def add_if(self, key: str, window: int, admit: Admit) -> tuple[int, int, bool]:
        """Count one event unless `admit` says no, atomically; the counts it saw."""
        ...


class DatabaseCounts:
    """Counts in the `rate_windows` table: shared by every process on the database."""

    def __init__(self, engine: Engine, namespace: str) -> None:
        self.engine = engine
        self.namespace = namespace

    def counts(self, key: str, window: int) -> tuple[int, int]:
        with self.engine.connect() as connection:
            return self._counts(connection, key, window)

    def _counts(self, connection: sa.Connection, key: str, window: int) -> tuple[int, int]:
        rows = connection.execute(
            sa.select(RateWindowRow.window, RateWindowRow.count).where(
                RateWindowRow.key == key, RateWindowRow.window.in_((window - 1, window))
            )
        ).all()
        counts = {int(w): int(c) for w, c in rows}
        return counts.get(window - 1, 0), counts.get(window, 0)

    def _add(self, connection: sa.Connection, key: str, window: int, amount: int) -> int:
        dialect = connection.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(RateWindowRow)
            .values(key=key, window=window, count=amount)
            .on_conflict_do_update(
                index_elements=[RateWindowRow.key, RateWindowRow.window],
                set_={"count": RateWindowRow.count + amount},
            )
            .returning(RateWindowRow.count)
        )
        return int(connection.execute(statement).scalar_one())

    def add_if(self, key: str, window: int, admit: Admit) -> tuple[int, int, bool]:
        with write_connection(self.engine) as connection:
            # The upsert locks the row (PostgreSQL) or the database (SQLite's BEGIN
            # IMMEDIATE) until commit: two processes cannot both take the last place.
            current = self._add(connection, key, window, 1)
            previous, _ = self._counts(connection, key, window)
            kept = admit(previous, current)
            if not kept:
                self._add(connection, key, window, -1)
            if random.random() < CLEANUP_SHARE:
                connection.execute(
                    sa.delete(RateWindowRow).where(
                        RateWindowRow.key.startswith(self.namespace, autoescape=True),
                        RateWindowRow.window < window - 1,
                    )
                )
        return previous, current if kept else current - 1, kept


class MemoryCounts:
    """Counts in this process: right when this process is the whole backend."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def counts(self, key: str, window: int) -> tuple[int, int]:
        with self._lock:
            return self._counts.get((key, window - 1), 0), self._counts.get((key, window), 0)

    def add_if(self, key: str, window: int, admit: Admit) -> tuple[int, int, bool]:
        with self._lock:
            previous = self._counts.get((key, window - 1), 0)
            current = self._counts.get((key, window), 0) + 1
            kept = admit(previous, current)
            if kept:
                self._counts[(key, window)] = current
                if len(self._counts) > 10_000:  # forget windows nobody can read any more
                    old = [k for k in self._counts if k[1] < window - 1]
                    for stale in old:
                        del self._counts[stale]
            return previous, current if kept else current - 1, kept


def shared_limit(
    settings: BackendSettings, engine: Engine, namespace: str, limit: int, span: float = 60.0
) -> SharedLimit:
    """The limit where the whole backend sees it: the database for PostgreSQL (instances on
    several hosts); on SQLite this process, with its share of the limit per worker."""
    mode = settings.shared_limits
    if mode == "auto":
        mode = "process" if is_sqlite(settings.database_url) else "database"
    if mode == "database":
        return SharedLimit(DatabaseCounts(engine, namespace), namespace, limit, span=span)
    share = max(1, limit // settings.workers)
    return SharedLimit(MemoryCounts(), namespace, share, span=span)


class SharedLimit:
    """At most `limit` events per key in any `span` seconds, for every process counting in
    `counts`.

    `namespace` ("token:", "auth-failure:") keeps limits with different spans apart.
    `take(key)` counts one event or raises RateLimited with the seconds to wait (a refused
    event is not counted); `waiting(key)` says the same without counting. `clock` is wall
    time in seconds: processes on other machines must agree on it (NTP).
    """

    def __init__(
        self,
        counts: WindowCounts,
        namespace: str,
        limit: int,
        *,
        span: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = counts
        self.limit = limit
        self.span = span
        self.clock = clock
        self.namespace = namespace

    def _window(self, now: float) -> tuple[int, float]:
        """The current window's number and how far into it `now` is (0..1)."""
        window = int(now // self.span)
        return window, (now - window * self.span) / self.span

    def _estimate(self, previous: int, current: int, into: float) -> float:
        return previous * (1.0 - into) + current

    def _wait(self, previous: int, current: int, into: float) -> int:
        """Whole seconds until one more event fits (at least 1)."""
        room = self.limit - 1 - current  # what the previous window may still weigh
        if room >= 0 and previous > 0:
            needed = 1.0 - room / previous  # the share of this window that must pass
            seconds = (needed - into) * self.span
        else:  # this window alone is full: wait for the next, where it is the previous one
            rest = (1.0 - into) * self.span
            seconds = rest + self.span * max(0.0, 1.0 - (self.limit - 1) / max(current, 1))
        return max(1, math.ceil(seconds - 1e-6))  # not 11 s for 10.0000001

    def _key(self, key: str) -> str:
        return f"{self.namespace}{key}"[:96]

    def waiting(self, key: str) -> int | None:
        """The seconds until `key` may spend again, or None when it may now (counts nothing)."""
        if self.limit <= 0:
            return None
        window, into = self._window(self.clock())
        previous, current = self.store.counts(self._key(key), window)
        if self._estimate(previous, current, into) + 1 <= self.limit:
            return None
        return self._wait(previous, current, into)

    def take(self, key: str) -> None:
        """Count one event of `key`, or raise RateLimited (and count nothing)."""
        if self.limit <= 0:
            return
        window, into = self._window(self.clock())
        previous, current, kept = self.store.add_if(
            self._key(key),
            window,
            lambda prev, cur: self._estimate(prev, cur, into) <= self.limit,
        )
        if not kept:
            raise RateLimited(self._wait(previous, current, into))
