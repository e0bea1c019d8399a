"""The date pad of a typed member number: the birth date that internet needs, checked here
for an impossible or future date before the backend compares it with the member's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk import protocol
from kiosk.terminal.session.keypad_flow import pad_typed
from kiosk.terminal.session.patron_session import (
    Checkin,
    Command,
    Journey,
    Notice,
    QueueVisit,
    State,
)

DATE_DIGITS = 8  # DDMMYYYY
OLDEST_YEAR = 1900


def birth_date_of(digits: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The date typed as DDMMYYYY, or None and why not: "impossible" or "future"."""
    if len(digits) != DATE_DIGITS or not digits.isdigit():
        return None, "impossible"
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None, "impossible"
    if date > today:
        return None, "future"
    if year < OLDEST_YEAR:
        return None, "impossible"
    return date, ""


class BirthDateEntry:
    """Events of the date pad. Flow provides the attributes declared below."""

    if TYPE_CHECKING:
        _state: State
        _journey: Journey
        _pending_body: protocol.CheckinRequest | None
        _wall_clock: Callable[[], dt.datetime]

        def _enter(self, state: State) -> None: ...
        def _touch(self) -> None: ...
        def _show_notice(self, notice: Notice, keep_number: str = "") -> None: ...

    def needs_birth_date(self) -> bool:
        """Whether this check-in must pass the date pad: a typed number asking internet."""
        j = self._journey
        return j.typed and j.verification == "birth_date" and j.want_internet

    def date_press(self, key: str) -> list[Command]:
        """A digit, "back" or "clear" on the date pad."""
        if self._state is not State.birth_date:
            return []
        j = self._journey
        j.birth_date_text = pad_typed(
            j.birth_date_text, key, accepts=str.isdigit, limit=DATE_DIGITS
        )
        j.date_error = ""
        self._touch()
        return []

    def date_cancel(self) -> list[Command]:
        """Batal: back to the guestbook, what was written kept (internet can be switched off)."""
        if self._state is not State.birth_date:
            return []
        self._journey.birth_date_text = ""
        self._journey.date_error = ""
        self._enter(State.guestbook)
        return []

    def date_submit(self) -> list[Command]:
        """Lanjut: an impossible or future date is refused here; a possible one goes with
        the check-in waiting since the guestbook."""
        body = self._pending_body
        if self._state is not State.birth_date or body is None:
            return []
        j = self._journey
        date, why = birth_date_of(j.birth_date_text, self._wall_clock().date())
        if date is None:
            j.date_error = why
            self._touch()
            return []
        j.date_error = ""
        verified = body.model_copy(update={"verification": protocol.Verification(birth_date=date)})
        self._enter(State.checking_in)
        return [Checkin(j.number, verified)]

    def verification_refused(self, journey: int, code: str) -> list[Command]:
        """The backend's 403 on the birth date. Wrong: the date pad again, the answers and
        client_ref kept. Locked: the visit is kept as a plain one, "show your card"."""
        body = self._pending_body
        if journey != self._journey.number or self._state is not State.checking_in or body is None:
            return []
        j = self._journey
        if code == "verification_failed":
            j.birth_date_text = ""
            j.date_error = "wrong"
            self._enter(State.birth_date)
            return []
        plain = protocol.VisitRequest.model_validate(
            body.model_dump(exclude={"verification"}) | {"want_internet": False}
        )
        self._show_notice(Notice.show_card)
        return [QueueVisit(journey, plain)]
