"""Limits that hold for the whole backend: events per key counted in the database, by minute.

Every worker process and every instance behind the load balancer counts in the same table,
so `[backend] rate_limit_per_minute` means per token for the backend, not per process (with
two workers twice the rate passed when each kept its own bucket). The count is a sliding
window over two fixed windows (the previous one weighted by how much of it still lies in
the last `span` seconds), kept with one atomic upsert per event: PostgreSQL and SQLite both
do `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from kiosk.backend.auth import RateLimited
from kiosk.backend.db import Base, write_session

CLEANUP_SHARE = 0.01  # one event in a hundred also deletes windows nobody can read any more


class RateWindowRow(Base):
    """How many events of one key fell in one window (window = epoch seconds // span)."""

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(sa.String(96), primary_key=True)
    window: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)


class SharedLimit:
    """At most `limit` events per key in any `span` seconds, for every process on the database.

    `namespace` ("token:", "auth-failure:") keeps limits with different spans apart.

    `take(key)` counts one event or raises RateLimited with the seconds to wait (a refused
    event is not counted); `waiting(key)` says the same without counting. `clock` is wall
    time in seconds: processes on other machines must agree on it (NTP).
    """

    def __init__(
        self,
        engine: Engine,
        namespace: str,
        limit: int,
        *,
        span: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.span = span
        self.clock = clock
        self.namespace = namespace

    # --------------------------------------------------------------- the rule

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

    # ------------------------------------------------------------ the counts

    def _key(self, key: str) -> str:
        return f"{self.namespace}{key}"[:96]

    def _counts(self, session: Session, key: str, window: int) -> tuple[int, int]:
        rows = session.execute(
            sa.select(RateWindowRow.window, RateWindowRow.count).where(
                RateWindowRow.key == key, RateWindowRow.window.in_((window - 1, window))
            )
        ).all()
        counts = {int(w): int(c) for w, c in rows}
        return counts.get(window - 1, 0), counts.get(window, 0)

    def _add(self, session: Session, key: str, window: int, amount: int) -> int:
        """Add `amount` to the window's count atomically; the count after it."""
        dialect = session.get_bind().dialect.name
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
        return int(session.execute(statement).scalar_one())

    def waiting(self, key: str) -> int | None:
        """The seconds until `key` may spend again, or None when it may now (counts nothing)."""
        if self.limit <= 0:
            return None
        window, into = self._window(self.clock())
        with Session(self.engine) as session:
            previous, current = self._counts(session, self._key(key), window)
        if self._estimate(previous, current, into) + 1 <= self.limit:
            return None
        return self._wait(previous, current, into)

    def take(self, key: str) -> None:
        """Count one event of `key`, or raise RateLimited (and count nothing)."""
        if self.limit <= 0:
            return
        window, into = self._window(self.clock())
        stored = self._key(key)
        with write_session(self.engine) as session:
            # The upsert locks the row (PostgreSQL) or the database (SQLite's BEGIN
            # IMMEDIATE) until commit: two processes cannot both take the last place.
            current = self._add(session, stored, window, 1)
            previous, _ = self._counts(session, stored, window)
            if self._estimate(previous, current, into) > self.limit:
                self._add(session, stored, window, -1)
                refused = self._wait(previous, current - 1, into)
            else:
                refused = 0
            if random.random() < CLEANUP_SHARE:
                session.execute(
                    sa.delete(RateWindowRow).where(
                        RateWindowRow.key.startswith(self.namespace, autoescape=True),
                        RateWindowRow.window < window - 1,
                    )
                )
        if refused:
            raise RateLimited(refused)
