"""Typed member numbers ([members] typed_entry): a masked name, and internet only with the
member's birth date; five wrong dates in an hour lock that member's typed entry for an hour."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.backend.db import Base, MemberRow, UTCDateTime, read_session, write_session
from kiosk.config import Settings
from kiosk.protocol import LookupResponse, Member, VisitRequest

log = logging.getLogger("kiosk.backend.typed_entry")

MAX_FAILURES = 5
SPAN = dt.timedelta(hours=1)


class TypedEntryLockRow(Base):
    """Wrong birth dates of one member's typed entries: counted from the first in the hour."""

    __tablename__ = "typed_entry_locks"

    member_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    failures: Mapped[int] = mapped_column(sa.Integer)
    first_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VerificationFailed(Exception):
    """A typed check-in's birth date is not the member's (403 verification_failed)."""


class VerificationLocked(Exception):
    """Too many wrong birth dates: this member's typed entry is locked for now (403)."""


def masked_name(name: str) -> str:
    """The first word and the next word's initial: 'Siti Aminah Putri' -> 'Siti A.'."""
    words = name.split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[1][0].upper()}."


def _locked(lock: TypedEntryLockRow | None, now: dt.datetime) -> bool:
    return lock is not None and lock.locked_until is not None and lock.locked_until > now


class TypedEntry:
    """What a typed member number may see (lookup) and take (check-in)."""

    def __init__(self, engine: Engine, mode: str, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.mode = mode  # "verify", "guestbook-only" or "open"
        self.clock = clock

    def follow(self, settings: Settings) -> None:
        """[members] typed_entry as the console last saved it."""
        self.mode = settings.members.typed_entry

    def lookup(self, answer: LookupResponse) -> LookupResponse:
        """A typed number's lookup: the masked name, no earlier answers, and what internet
        needs ('birth_date': the date pad; 'card': no internet by a typed number)."""
        if self.mode == "open":
            return answer
        need = "card"
        if self.mode == "verify":
            with read_session(self.engine) as session:
                member = session.get(MemberRow, answer.member.id)
                lock = session.get(TypedEntryLockRow, answer.member.id)
                if member is not None and member.birth_date is not None:
                    need = "card" if _locked(lock, self.clock()) else "birth_date"
        shown = answer.member
        member_view = Member(
            id=shown.id, name=masked_name(shown.name), status=shown.status, expires_on=None
        )
        return answer.model_copy(
            update={"member": member_view, "last_answers": None, "verification": need}
        )

    def allows_credential(self, request: VisitRequest, member_id: str) -> bool:
        """Whether this check-in may get a credential: always for a card; for a typed
        number only with the member's birth date (False: record the visit, no credential).
        Raises VerificationFailed (counted) or VerificationLocked."""
        if request.entry != "typed" or self.mode == "open" or not request.want_internet:
            return True
        if self.mode == "guestbook-only":
            return False
        now = self.clock()
        with read_session(self.engine) as session:
            member = session.get(MemberRow, member_id)
            if member is None:
                return True  # the desk answers member_not_found
            if member.birth_date is None:
                return False
            if _locked(session.get(TypedEntryLockRow, member_id), now):
                raise VerificationLocked(f"member {member_id}: typed entry locked")
            if request.verification is None:
                return False
            if request.verification.birth_date == member.birth_date:
                return True
        locked_now = self._count_failure(member_id, now)
        if locked_now:
            log.warning(
                "typed entry locked for member=%s: %d wrong birth dates within an hour",
                member_id,
                MAX_FAILURES,
            )
            raise VerificationLocked(f"member {member_id}: typed entry locked")
        log.info("typed entry member=%s: wrong birth date", member_id)
        raise VerificationFailed(f"member {member_id}: the birth date does not match")

    def _count_failure(self, member_id: str, now: dt.datetime) -> bool:
        """One wrong birth date counted; True when it locked the member's typed entry."""
        with write_session(self.engine) as session:
            # The member row's lock queues concurrent failures of one member (instances too).
            session.scalars(
                sa.select(MemberRow.id).where(MemberRow.id == member_id).with_for_update()
            ).first()
            lock = session.get(TypedEntryLockRow, member_id)
            if lock is None:
                lock = TypedEntryLockRow(member_id=member_id, failures=0, first_failed_at=now)
                session.add(lock)
            elif _locked(lock, now):
                return True
            elif lock.first_failed_at <= now - SPAN:
                lock.failures, lock.first_failed_at, lock.locked_until = 0, now, None
            lock.failures += 1
            if lock.failures >= MAX_FAILURES:
                lock.locked_until = now + SPAN
                return True
        return False
