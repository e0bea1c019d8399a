"""Limits that hold for the whole backend: events per key and window, counted where every
process that serves the kiosks sees them."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.backend.api.auth import RateLimited
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


RATE_COUNTS = sa.select(RateWindowRow.window, RateWindowRow.count).where(
    RateWindowRow.key == sa.bindparam("key"),
    RateWindowRow.window.in_((sa.bindparam("window") - 1, sa.bindparam("window"))),
)


def count_and_read(reads: int) -> sa.TextClause:
    """PostgreSQL: count one event of :key and read its previous window, and `reads` other
    keys' two windows (:k0/:w0 ...), in one statement and one round trip (autocommit: the
    upsert is atomic on its own, see DatabaseCounts._add_if_in_one_statement)."""
    others = "".join(
        f""",
           COALESCE((SELECT count FROM rate_windows
                     WHERE key = :k{n} AND "window" = :w{n} - 1), 0) AS p{n},
           COALESCE((SELECT count FROM rate_windows
                     WHERE key = :k{n} AND "window" = :w{n}), 0) AS c{n}"""
        for n in range(reads)
    )
    binds: list[sa.BindParameter[Any]] = [
        sa.bindparam("key", type_=sa.String),
        sa.bindparam("window", type_=sa.BigInteger),
    ]
    for n in range(reads):
        binds += [
            sa.bindparam(f"k{n}", type_=sa.String),
            sa.bindparam(f"w{n}", type_=sa.BigInteger),
        ]
    text = f"""
    WITH counted AS (
        INSERT INTO rate_windows (key, "window", count) VALUES (:key, :window, 1)
        ON CONFLICT (key, "window") DO UPDATE SET count = rate_windows.count + 1
        RETURNING count
    )
    SELECT (SELECT count FROM counted) AS current,
           COALESCE((SELECT count FROM rate_windows
                     WHERE key = :key AND "window" = :window - 1), 0) AS previous{others}
    """
    return sa.text(text).bindparams(*binds)


COUNT_AND_READ = {reads: count_and_read(reads) for reads in (0, 1, 2)}
UNCOUNT = (
    sa.update(RateWindowRow)
    .where(RateWindowRow.key == sa.bindparam("k"), RateWindowRow.window == sa.bindparam("w"))
    .values(count=RateWindowRow.count - 1)
)


class DatabaseCounts:
    """Counts in the `rate_windows` table: shared by every process on the database.

    On PostgreSQL every call is one autocommit statement (no BEGIN, no COMMIT): a check-in
    passes three limits, and their transactions were the larger part of its round trips."""

    def __init__(self, engine: Engine, namespace: str) -> None:
        self.engine = engine
        self.namespace = namespace
        self.single_statements = engine.dialect.name == "postgresql"
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.single_statements
            else engine
        )

    def counts(self, key: str, window: int) -> tuple[int, int]:
        with self._single.connect() as connection:
            return self._counts(connection, key, window)

    def _counts(self, connection: sa.Connection, key: str, window: int) -> tuple[int, int]:
        rows = connection.execute(RATE_COUNTS, {"key": key, "window": window}).all()
        counts = {int(w): int(c) for w, c in rows}
        return counts.get(window - 1, 0), counts.get(window, 0)

    def _add(self, connection: sa.Connection, key: str, window: int, amount: int) -> int:
        insert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
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

    def _forget_old_windows(self, connection: sa.Connection, window: int) -> None:
        connection.execute(
            sa.delete(RateWindowRow).where(
                RateWindowRow.key.startswith(self.namespace, autoescape=True),
                RateWindowRow.window < window - 1,
            )
        )

    def add_if(self, key: str, window: int, admit: Admit) -> tuple[int, int, bool]:
        if self.single_statements:
            return self._add_if_in_one_statement(key, window, admit)
        with write_connection(self.engine) as connection:
            # The upsert locks the database (SQLite's BEGIN IMMEDIATE) until commit: two
            # processes cannot both take the last place.
            current = self._add(connection, key, window, 1)
            previous, _ = self._counts(connection, key, window)
            kept = admit(previous, current)
            if not kept:
                self._add(connection, key, window, -1)
            if random.random() < CLEANUP_SHARE:
                self._forget_old_windows(connection, window)
        return previous, current if kept else current - 1, kept

    def count_reading(
        self, key: str, window: int, reads: list[tuple[str, int]]
    ) -> tuple[int, int, list[tuple[int, int]]]:
        """PostgreSQL: count one event of `key` and read other keys' (previous, current)
        counts, in one autocommit statement. The caller gives the place back with `uncount`
        if the event is not kept."""
        values: dict[str, object] = {"key": key, "window": window}
        for n, (other, other_window) in enumerate(reads):
            values[f"k{n}"], values[f"w{n}"] = other, other_window
        statement = COUNT_AND_READ.get(len(reads))
        if statement is None:
            statement = count_and_read(len(reads))
        with self._single.connect() as connection:
            row = connection.execute(statement, values).one()
            if random.random() < CLEANUP_SHARE:
                self._forget_old_windows(connection, window)
        named = row._mapping
        read = [(int(named[f"p{n}"]), int(named[f"c{n}"])) for n in range(len(reads))]
        return int(named["previous"]), int(named["current"]), read

    def uncount(self, key: str, window: int) -> None:
        with self._single.connect() as connection:
            connection.execute(UNCOUNT, {"k": key, "w": window})

    def _add_if_in_one_statement(
        self, key: str, window: int, admit: Admit
    ) -> tuple[int, int, bool]:
        """Count first, then give the place back if it was one too many. The upsert is
        atomic, so no two events both take the last place, and no event is kept past the
        limit. A refused event's count stands for the few milliseconds until it is given
        back: an event racing it sees the limit already full, as it is in all but the rare
        case where the sliding window makes room in those milliseconds."""
        previous, current, _ = self.count_reading(key, window, [])
        kept = admit(previous, current)
        if not kept:
            self.uncount(key, window)
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
        return self._waiting_at(previous, current, into)

    def _waiting_at(self, previous: int, current: int, into: float) -> int | None:
        """`waiting()` for counts already read."""
        if self.limit <= 0 or self._estimate(previous, current, into) + 1 <= self.limit:
            return None
        return self._wait(previous, current, into)

    def _counts_with(self, checks: Sequence[tuple[SharedLimit, str]]) -> DatabaseCounts | None:
        """This limit's database counts, if every check counts in them too (one round trip)."""
        store = self.store
        if not isinstance(store, DatabaseCounts) or not store.single_statements:
            return None
        for limit, _ in checks:
            if (
                not isinstance(limit.store, DatabaseCounts)
                or limit.store.engine is not store.engine
            ):
                return None
        return store

    def take_unless(self, key: str, checks: Sequence[tuple[SharedLimit, str]]) -> list[int | None]:
        """`waiting()` of every (limit, key) in `checks`; if none waits, also `take(key)`
        (which may raise RateLimited). A check that waits leaves `key` uncounted.

        On PostgreSQL this is one round trip where it was one per limit: a request passes
        three (the address's failed logins, the token's rate, its unknown members)."""
        store = self._counts_with(checks)
        if store is None or self.limit <= 0:
            waits = [limit.waiting(other) for limit, other in checks]
            if all(wait is None for wait in waits):
                self.take(key)
            return waits
        now = self.clock()
        window, into = self._window(now)
        check_windows = [limit._window(now) for limit, _ in checks]
        reads = [
            (limit._key(other), check_window)
            for (limit, other), (check_window, _) in zip(checks, check_windows, strict=True)
        ]
        previous, current, counts = store.count_reading(self._key(key), window, reads)
        waits = [
            limit._waiting_at(check_previous, check_current, check_into)
            for (limit, _), (_, check_into), (check_previous, check_current) in zip(
                checks, check_windows, counts, strict=True
            )
        ]
        fits = self._estimate(previous, current, into) <= self.limit
        held_back = any(wait is not None for wait in waits)
        if not fits or held_back:
            store.uncount(self._key(key), window)
        if not fits and not held_back:
            raise RateLimited(self._wait(previous, current - 1, into))
        return waits

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
