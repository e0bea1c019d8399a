"""Where a check-in's or visit's desk work runs: on the event loop when it can wait on nothing,
else in a route thread."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy.engine import Engine

from kiosk.backend.db import create_db_engine, writer_busy, writer_lock
from kiosk.backend.desk.outcomes import Outcome
from kiosk.protocol import VisitRequest

if TYPE_CHECKING:
    from kiosk.backend.desk.checkins import CheckinDesk

log = logging.getLogger("kiosk.backend")


class WaitInThread(Exception):
    """The desk would have to sleep (another check-in's credential is pending)."""


def _refuse_to_sleep(_seconds: float) -> None:
    raise WaitInThread


class DeskPlacement:
    """Runs the desk's record() on the event loop when it may (see the module), else in a
    route thread; `on_loop` says whether this backend ever does."""

    def __init__(self, desk: CheckinDesk) -> None:
        self.desk = desk
        self._loop_engine: Engine | None = None
        self._loop_desk: CheckinDesk | None = None
        self._writers = writer_lock(desk.engine)  # None but on SQLite
        if self._writers is not None and not desk.waits_on_network:
            url = desk.engine.url.render_as_string(hide_password=False)
            self._loop_engine = create_db_engine(url, pool_size=1, busy_timeout_ms=0)
            self._loop_desk = desk.writing_through(self._loop_engine, _refuse_to_sleep)
        self.handed_to_threads = 0  # tries on the loop that met a waiting writer (tests)

    @property
    def on_loop(self) -> bool:
        return self._loop_desk is not None

    async def record(self, request: VisitRequest, *, allow_credential: bool) -> Outcome:
        """desk.record(request, allow_credential=...), on the loop if it may."""
        loop_desk = self._loop_desk
        if loop_desk is not None and self._take_writer():
            try:
                return loop_desk.record(request, allow_credential=allow_credential)
            except WaitInThread:
                pass
            except Exception as exc:
                if not writer_busy(exc):
                    raise
            finally:
                assert self._writers is not None
                self._writers.release()
            self.handed_to_threads += 1
        work = partial(self.desk.record, request, allow_credential=allow_credential)
        return await anyio.to_thread.run_sync(work)

    def _take_writer(self) -> bool:
        return self._writers is not None and self._writers.acquire(blocking=False)

    def close(self) -> None:
        if self._loop_engine is not None:
            self._loop_engine.dispose()
