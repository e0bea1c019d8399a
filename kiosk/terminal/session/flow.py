"""The patron session as a state machine: card -> lookup -> guestbook -> check-in -> credential."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from kiosk import protocol
from kiosk.config import GuestbookField, Timeouts
from kiosk.terminal.session import guest_entry
from kiosk.terminal.session.birth_date_flow import BirthDateEntry
from kiosk.terminal.session.guest_flow import GuestJourney
from kiosk.terminal.session.guestbook import initial_answers, is_complete, validate_answers
from kiosk.terminal.session.keypad_flow import KeypadEntry
from kiosk.terminal.session.patron_session import (
    NOTICE_FOR_CODE,
    Beep,
    Checkin,
    Command,
    Credential,
    Journey,
    Lookup,
    Notice,
    QueueVisit,
    State,
    View,
)
from kiosk.terminal.session.survey_flow import SurveyEntry

# Journey numbers are unique in the process, also across a Flow rebuilt by a config
# reload, so an answer still in flight can never be taken for a later patron's.
_JOURNEYS = itertools.count(1)


# States that end with the patron's card having been read: leaving them starts the while
# in which the same card again is ignored.
_CARD_SESSION = frozenset(
    {"guestbook", "birth_date", "credentials", "thanks", "notice", "checking_in", "looking_up"}
)


class Flow(KeypadEntry, BirthDateEntry, GuestJourney, SurveyEntry):
    """The patron session. Call the event methods; read `view`; run the returned commands."""

    def __init__(
        self,
        fields: list[GuestbookField],
        timeouts: Timeouts,
        kiosk_id: str,
        *,
        now: Callable[[], float],
        wall_clock: Callable[[], dt.datetime] | None = None,
        on_change: Callable[[View], None] | None = None,
        card_check: Callable[[str], bool] | None = None,
        guest_fields: list[GuestbookField] | None = None,
        guest_internet: bool = False,
        max_group_size: int = guest_entry.MAX_GROUP,
    ) -> None:
        self._guest_fields = list(guest_fields or [])
        self._max_group = max_group_size  # [guests] max_group_size: the largest typed group
        self._pending_guest: protocol.GuestVisitRequest | None = None
        self._guest_internet = guest_internet
        self._fields = fields
        self._timeouts = timeouts
        self._kiosk_id = kiosk_id
        self._now = now
        self._wall_clock = wall_clock or (lambda: dt.datetime.now(dt.UTC))
        self._on_change = on_change
        # A typed number that cannot be a member card is refused at once (no lookup, and
        # nothing for the outbox to carry if the backend is down).
        self._card_check = card_check
        self._journey = Journey(number=0)
        self._state = State.idle
        self._deadline = float("inf")
        self._camera_ok = True
        self._out_of_service = False
        self._pending_body: protocol.CheckinRequest | None = None
        self._ended_card = ""  # the card of the journey that just ended, and until when
        self._ended_until = 0.0

    # ------------------------------------------------------------ reading

    @property
    def state(self) -> State:
        return self._state

    @property
    def view(self) -> View:
        j = self._journey
        return View(
            state=self._state,
            journey=j.number,
            deadline=self._deadline,
            camera_ok=self._camera_ok,
            guest=copy.deepcopy(j.guest) if self._state is State.guest else None,
            **j.shown(),
        )

    def seconds_left(self) -> float:
        return max(0.0, self._deadline - self._now())

    # ------------------------------------------------------- the scanner

    def card_read(self, text: str) -> list[Command]:
        """A read that matched the card pattern. Starts a session from Welcome or a notice;
        ignored while another patron is in a session."""
        if self._state not in (State.idle, State.notice, State.keypad):
            return []
        card = text.strip()
        if card == self._ended_card and self._now() < self._ended_until:
            return []  # still held up after "Selesai", or a demo video looping
        self._ended_card = ""
        return [Beep("read"), *self._start_lookup(text)]

    def card_rejected(self, text: str) -> list[Command]:
        """A read that is not this library's member card (an ISBN, another library's card)."""
        if self._state not in (State.idle, State.notice):
            return []
        self._new_journey()
        self._show_notice(Notice.card_not_recognised)
        return [Beep("rejected")]

    def camera_changed(self, ok: bool) -> list[Command]:
        self._camera_ok = ok
        self._changed()
        return []

    def cancel(self) -> list[Command]:
        """The patron pressed "back"/"Selesai": the session ends, nothing of it stays."""
        if self._state in (
            State.looking_up,
            State.checking_in,
            State.sending_guest,
            State.out_of_service,
        ):
            return []
        self._to_idle()
        return []

    # ------------------------------------------------------ the backend

    def lookup_succeeded(
        self,
        journey: int,
        *,
        name: str,
        status: str,
        last_answers: Mapping[str, Any] | None,
        verification: str = "none",
    ) -> list[Command]:
        if not self._current(journey, State.looking_up):
            return []
        j = self._journey
        j.member_name = name
        j.member_status = status
        j.verification = verification
        j.answers = initial_answers(self._fields, dict(last_answers) if last_answers else None)
        # "card": a typed number that cannot be verified gets no internet here.
        if status in ("expired", "blocked") or verification == "card":
            # They may still sign the guestbook (a visit is a visit), but get no credential.
            j.internet_allowed = False
            j.want_internet = False
        self._enter(State.guestbook)
        return []

    def lookup_failed(self, journey: int, code: str) -> list[Command]:
        """`code`: a backend error code, or "unreachable" when the backend did not answer."""
        if not self._current(journey, State.looking_up):
            return []
        if code not in NOTICE_FOR_CODE:
            # Unreachable, or an answer that is not about this patron: nobody to greet by
            # name, but the guestbook can still be signed and kept.
            j = self._journey
            j.offline = True
            j.internet_allowed = False
            j.want_internet = False
            j.answers = initial_answers(self._fields, None)
            self._enter(State.guestbook)
            return []
        notice = NOTICE_FOR_CODE[code]
        typed = self._journey.keypad_text if self._journey.typed else ""
        self._show_notice(notice, keep_number=typed if notice is Notice.member_not_found else "")
        return []

    # --------------------------------------------------- the guestbook

    def answer(self, key: str, value: str) -> list[Command]:
        if self._state is not State.guestbook:
            return []
        if any(f.key == key for f in self._fields):
            if value:
                self._journey.answers[key] = value
            else:
                self._journey.answers.pop(key, None)
        self._touch()
        return []

    def set_want_internet(self, wanted: bool) -> list[Command]:
        if self._state is not State.guestbook:
            return []
        self._journey.want_internet = wanted and self._journey.internet_allowed
        self._touch()
        return []

    def can_submit(self) -> bool:
        return self._state is State.guestbook and is_complete(self._fields, self._journey.answers)

    def submit(self) -> list[Command]:
        if not self.can_submit():
            return []
        j = self._journey
        try:
            body = protocol.CheckinRequest(
                client_ref=uuid.UUID(j.client_ref),
                card=j.card,
                answers=validate_answers(self._fields, j.answers),
                want_internet=j.want_internet,
                kiosk_id=self._kiosk_id,
                occurred_at=self._wall_clock(),
                entry="typed" if j.typed else "scan",
            )
        except ValidationError:
            # Nothing the backend or the outbox would take (it cannot happen with a card
            # the pattern accepted): staff must look, as when the outbox cannot keep it.
            self._show_notice(Notice.busy)
            return []
        if j.offline:
            self._show_notice(Notice.backend_unreachable)
            return [QueueVisit(j.number, body)]
        self._pending_body = body
        if self.needs_birth_date():
            self._enter(State.birth_date)  # the date pad sends it, with the birth date
            return []
        self._enter(State.checking_in)
        return [Checkin(j.number, body)]

    def checkin_succeeded(self, journey: int, credential: Credential | None) -> list[Command]:
        if not self._current(journey, State.checking_in):
            return []
        self._keep_survey_profile(self._journey.answers, self._journey.card)
        self._journey.answers = {}
        if credential is None:
            self._enter(State.thanks)
        else:
            self._journey.credential = credential
            self._enter(State.credentials)
        return []

    def checkin_failed(self, journey: int, code: str) -> list[Command]:
        """`code`: a backend error code, or "unreachable". What the patron wrote is kept
        (queued for /visits) unless the member does not exist."""
        if not self._current(journey, State.checking_in):
            return []
        if code in ("verification_failed", "verification_locked"):
            return self.verification_refused(journey, code)
        body = self._pending_body
        self._journey.answers = {}
        if code == "member_not_found":
            self._show_notice(Notice.member_not_found)
            return []
        # The same body under the same client_ref: if the backend did record the check-in
        # (its answer was lost), /visits answers it as a replay and nothing is counted twice.
        self._show_notice(NOTICE_FOR_CODE.get(code, Notice.backend_unreachable))
        return [] if body is None else [QueueVisit(journey, body)]

    def queue_failed(self, journey: int) -> list[Command]:
        """The outbox could not keep the entry (disk full): tell the patron to see staff."""
        if journey == self._journey.number:
            self._show_notice(Notice.busy)
        return []

    # ---------------------------------------------------- time and staff

    def tick(self) -> list[Command]:
        """Call regularly: a state past its deadline returns to Welcome, forgetting the patron."""
        if self._now() < self._deadline:
            return []
        if self._state in (State.idle, State.out_of_service):
            return []
        if self._state is State.looking_up:
            # The lookup did not come back in time: treat it as unreachable (keep the guestbook).
            return self.lookup_failed(self._journey.number, "unreachable")
        if self._state is State.checking_in:
            return self.checkin_failed(self._journey.number, "unreachable")
        if self._state is State.sending_guest:
            return self.guest_failed(self._journey.number, "unreachable")
        self._to_idle()
        return []

    def touch(self) -> list[Command]:
        """Any touch on a patron screen: the patron is still there (on Welcome: someone is,
        so the card of the journey that just ended counts again)."""
        if self._state is State.idle:
            self._ended_card = ""
        self._touch()
        return []

    def set_out_of_service(self, on: bool) -> list[Command]:
        self._out_of_service = on
        if on:
            self._journey = Journey(number=self._journey.number)
            self._state = State.out_of_service
            self._deadline = float("inf")
            self._changed()
        elif self._state is State.out_of_service:
            self._to_idle()
        return []

    def reset(self) -> list[Command]:
        """Back to Welcome at once (maintenance opened, config reloaded)."""
        if self._out_of_service:
            return self.set_out_of_service(True)
        self._to_idle()
        return []

    # ------------------------------------------------------------ inside

    def _current(self, journey: int, state: State) -> bool:
        return journey == self._journey.number and self._state is state

    def _new_journey(self) -> None:
        self._journey = Journey(number=next(_JOURNEYS), client_ref=str(uuid.uuid4()))
        self._pending_body = None

    def _start_lookup(self, card: str, entry: protocol.Entry = "scan") -> list[Command]:
        self._new_journey()
        self._journey.card = card.strip()
        self._journey.typed = entry == "typed"
        self._enter(State.looking_up)
        return [Lookup(self._journey.number, self._journey.card, entry)]

    def _show_notice(self, notice: Notice, keep_number: str = "") -> None:
        # A notice keeps nothing the patron entered: only which notice it is (and a typed
        # number that was not found, to be corrected rather than typed again).
        self._journey = replace(
            Journey(number=self._journey.number),
            notice=notice,
            client_ref=self._journey.client_ref,
            card=self._journey.card,
            keypad_text=keep_number,
        )
        self._enter(State.notice)

    def _to_idle(self) -> None:
        if self._journey.card and not self._journey.typed and self._state in _CARD_SESSION:
            self._ended_card = self._journey.card
            self._ended_until = self._now() + self._timeouts.same_card
        self._journey = Journey(number=self._journey.number)
        self._pending_body = None
        self._survey, self._survey_profile, self._survey_who = None, None, ""
        if self._out_of_service:
            self._state = State.out_of_service
            self._deadline = float("inf")
            self._changed()
            return
        self._state = State.idle
        self._deadline = float("inf")
        self._changed()

    def _enter(self, state: State) -> None:
        self._state = state
        self._deadline = self._now() + self._timeout_for(state)
        self._changed()

    def _touch(self) -> None:
        if self._state in (
            State.guestbook,
            State.keypad,
            State.guest,
            State.birth_date,
            State.survey,
        ):
            self._deadline = self._now() + self._timeout_for(self._state)
        self._changed()

    def _timeout_for(self, state: State) -> float:
        t = self._timeouts
        return {
            State.keypad: t.keypad,
            State.birth_date: t.keypad,
            State.looking_up: t.lookup,
            State.guestbook: t.guestbook,
            State.guest: t.guestbook,
            State.sending_guest: t.checkin,
            State.checking_in: t.checkin,
            State.credentials: t.credentials,
            State.thanks: t.thanks,
            State.notice: t.notice,
            State.survey: t.guestbook,
        }.get(state, float("inf"))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.view)
