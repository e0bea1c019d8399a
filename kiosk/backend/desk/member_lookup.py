"""What the check-in desk asks of the library's system: live lookups through the local copy,
repeat visits inside [guestbook] repeat_window_minutes, and visits queued for write-back."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import MemberRow, read_session
from kiosk.backend.desk.transaction import DeskTransaction
from kiosk.backend.library import writeback
from kiosk.backend.library.gender import member_genders
from kiosk.backend.library.link import (
    LibraryUnavailable,
    LibraryVisit,
    MemberCopy,
    MemberSource,
)
from kiosk.backend.library.source import build_source
from kiosk.config import Settings
from kiosk.protocol import VisitRequest

log = logging.getLogger("kiosk.backend.writeback")


class LibraryDesk:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        timezone: dt.tzinfo,
        source: MemberSource | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.timezone = timezone
        if source is None:
            source = build_source(settings.members, timezone, member_genders(settings))
        self.source = source
        self.copy = (
            MemberCopy(self.source, engine, settings.members.lookup_timeout)
            if self.source is not None
            else None
        )
        self.record_visits = self.source is not None and settings.members.record_visits()
        self.window = dt.timedelta(minutes=settings.guestbook.repeat_window_minutes)

    def lookup(self, member_id: str, now: dt.datetime) -> str:
        """Where this lookup's answer comes from: 'local' (the CSV table), 'library' (asked
        live, copy refreshed), 'copy' (the library did not answer), 'gone' (not there)."""
        if self.copy is None:
            return "local"
        return self.copy.refresh(member_id, now)

    def before_visit(self, member_id: str, now: dt.datetime) -> None:
        """A member not yet in the copy (no lookup reached the library) is asked for once.
        Without a library system this reads nothing."""
        if self.copy is None:
            return
        with read_session(self.engine) as session:
            known = session.get(MemberRow, member_id) is not None
        if not known and self.copy.refresh(member_id, now) == "copy":
            # Not a 404: the kiosk's outbox keeps the visit and tries again later.
            raise LibraryUnavailable(f"member {member_id} not in the local copy yet")

    def counted(self, desk: DeskTransaction, member_id: str, occurred_at: dt.datetime) -> bool:
        """False for a repeat: an earlier counted visit inside the window (SLiMS's
        time_visitor_limitation)."""
        if not self.window:
            return True
        earlier = desk.first(
            desk.statements.earlier_counted_visit,
            member_id=member_id,
            since=occurred_at - self.window,
            until=occurred_at,
        )
        return earlier is None

    def member_visit(
        self,
        desk: DeskTransaction,
        request: VisitRequest,
        member_id: str,
        occurred_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        """Queue a member's visit for the library's guestbook, in the check-in's transaction."""
        if not self.record_visits:
            return  # no library guestbook to write to: no need to read the member again
        session = desk.session
        member = session.get(MemberRow, member_id)
        if member is None:
            return
        self.visit_recorded(
            session,
            client_ref=str(request.client_ref),
            member_id=member.id,
            name=member.name,
            institution=member.institution,
            occurred_at=occurred_at,
            kiosk_id=request.kiosk_id,
            answers=request.answers,
            now=now,
        )

    def visit_recorded(
        self,
        session: Session,
        *,
        client_ref: str,
        member_id: str | None,
        name: str,
        institution: str | None,
        occurred_at: dt.datetime,
        kiosk_id: str,
        answers: dict[str, Any],
        now: dt.datetime,
        group_size: int = 1,
    ) -> None:
        """Queue the visit for the library's guestbook, in the visit's own transaction.
        Guest visits (member_id None) and groups (group_size > 1) go through here too."""
        if not self.record_visits or self.source is None:
            return
        local = occurred_at.astimezone(self.timezone).replace(tzinfo=None, microsecond=0)
        visit = LibraryVisit(member_id, name, institution, local, kiosk_id, answers, group_size)
        writeback.enqueue(session, self.source.name, client_ref, visit, now)

    def state(self) -> str | None:
        """For /health: None when members are local."""
        if self.copy is None or self.source is None:
            return None
        return f"{self.source.name}: {self.copy.state()}"

    def health(self) -> dict[str, Any]:
        """The /health fields: the library database's state and the write-back backlog."""
        state = self.state()
        if state is None:
            return {}
        fields: dict[str, Any] = {"library": state}
        if self.record_visits:
            waiting = writeback.backlog(self.engine)
            fields |= {"writeback_waiting": waiting.waiting, "writeback_failed": waiting.failed}
        return fields

    def drain(self, now: Callable[[], dt.datetime]) -> writeback.DrainReport | None:
        if not self.record_visits or self.source is None:
            return None
        report = writeback.drain_once(
            self.engine, self.source, now, max_attempts=self.settings.members.writeback_attempts
        )
        if self.copy is not None and report.reached is not None:
            # A write-back is a real contact: /health follows it, not only lookups.
            if report.reached:
                self.copy.answered(now())
            else:
                stopped = report.stopped.removeprefix("library database unavailable: ")
                self.copy.failed(LibraryUnavailable(stopped), now())
        return report

    async def drain_forever(self, now: Callable[[], dt.datetime]) -> None:
        """Every [members] writeback_seconds: write waiting visits to the library's table."""
        if not self.record_visits:
            return
        while True:
            try:
                report = await anyio.to_thread.run_sync(self.drain, now)
            except Exception as exc:  # keep draining; the next round may succeed
                log.error("writeback failed: %s: %s", type(exc).__name__, exc)
            else:
                if report is not None and (report.written or report.set_aside or report.passed):
                    log.info(
                        "writeback to %s: %s written, %s already there, %s refused (next "
                        "round), %s set aside",
                        self.settings.members.source,
                        report.written,
                        report.already_there,
                        report.passed,
                        report.set_aside,
                    )
            await asyncio.sleep(self.settings.members.writeback_seconds)

    def close(self) -> None:
        if self.copy is not None:
            self.copy.close()
        if self.source is not None:
            self.source.close()
