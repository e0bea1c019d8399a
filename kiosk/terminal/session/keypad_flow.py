"""The typed member number of the patron session: open, keys, retry after "not found", submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.protocol import Entry
from kiosk.terminal.session.patron_session import Command, Journey, Notice, State

MAX_KEYPAD_DIGITS = 20


def pad_typed(text: str, key: str, *, accepts: Callable[[str], bool], limit: int) -> str:
    """A number pad's text after one key: "back", "clear", or one character it accepts while
    under its limit (upper case: a member number may hold letters). Also the date pad's."""
    if key == "back":
        return text[:-1]
    if key == "clear":
        return ""
    if len(key) == 1 and accepts(key) and len(text) < limit:
        return text + key.upper()
    return text


class KeypadEntry:
    """Events of the member-number keypad. Flow provides the attributes declared below."""

    if TYPE_CHECKING:
        _state: State
        _journey: Journey
        _card_check: Callable[[str], bool] | None

        def _enter(self, state: State) -> None: ...
        def _touch(self) -> None: ...
        def _show_notice(self, notice: Notice, keep_number: str = "") -> None: ...
        def _new_journey(self) -> None: ...
        def _start_lookup(self, card: str, entry: Entry = "scan") -> list[Command]: ...

    def keypad_open(self) -> list[Command]:
        if self._state not in (State.idle, State.notice):
            return []
        self._new_journey()
        self._enter(State.keypad)
        return []

    def keypad_retry(self) -> list[Command]:
        """From "member not found" after a typed number: back to the keypad, the number
        still there to correct."""
        if self._state is not State.notice or not self._journey.keypad_text:
            return []
        text = self._journey.keypad_text
        self._new_journey()
        self._journey.keypad_text = text
        self._enter(State.keypad)
        return []

    def keypad_press(self, key: str) -> list[Command]:
        """A digit or letter, "back" or "clear"."""
        if self._state is not State.keypad:
            return []
        j = self._journey
        j.keypad_text = pad_typed(j.keypad_text, key, accepts=str.isalnum, limit=MAX_KEYPAD_DIGITS)
        self._touch()
        return []

    def keypad_submit(self) -> list[Command]:
        if self._state is not State.keypad or not self._journey.keypad_text:
            return []
        text = self._journey.keypad_text
        if self._card_check is not None and not self._card_check(text):
            self._show_notice(Notice.member_not_found, keep_number=text)
            return []
        commands = self._start_lookup(text, entry="typed")
        self._journey.keypad_text = text
        return commands
