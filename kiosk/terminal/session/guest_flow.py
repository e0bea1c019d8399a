"""The guest and group (rombongan) journey of the patron session: Welcome, guest form, thanks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk import protocol
from kiosk.config import GuestbookField
from kiosk.terminal.session import guest_entry
from kiosk.terminal.session.guest_entry import GuestEntry
from kiosk.terminal.session.patron_session import (
    Command,
    Credential,
    Journey,
    Notice,
    QueueVisit,
    SendGuestVisit,
    State,
)


class GuestJourney:
    """Events of the guest form. Flow provides the attributes declared below."""

    if TYPE_CHECKING:
        _state: State
        _journey: Journey
        _kiosk_id: str
        _wall_clock: Callable[[], dt.datetime]
        _guest_fields: list[GuestbookField]
        _guest_internet: bool
        _pending_guest: protocol.GuestVisitRequest | None
        _max_group: int

        def _enter(self, state: State) -> None: ...
        def _touch(self) -> None: ...
        def _show_notice(self, notice: Notice) -> None: ...
        def _current(self, journey: int, state: State) -> bool: ...
        def _new_journey(self) -> None: ...
        def _keep_survey_profile(self, answers: dict[str, str], who: str) -> None: ...

    def guest_open(self, group: bool = False, gender_keys: Sequence[str] = ()) -> list[Command]:
        """ "Bukan anggota?" on Welcome or on "card not recognised": the form of one visitor
        (group: of a rombongan's leader; gender_keys: the choices a group counts its people
        by, [guests] group_gender_counts)."""
        if self._state not in (State.idle, State.notice):
            return []
        self._new_journey()
        self._journey.guest = GuestEntry()
        self._shape_guest(group, gender_keys)
        self._enter(State.guest)
        return []

    def guest_set_group(self, group: bool, gender_keys: Sequence[str] = ()) -> list[Command]:
        """The form's "Sendiri / Rombongan" switch: the same visitor, now alone or leading a
        group; the name and institution typed stay, answers a group is not asked are dropped."""
        entry = self._guest()
        if entry is not None and entry.group != group:
            self._shape_guest(group, gender_keys)
            self._touch()
        return []

    def _shape_guest(self, group: bool, gender_keys: Sequence[str]) -> None:
        j = self._journey
        entry = j.guest
        entry.group = group
        if not group and entry.editing == "group_size":
            entry.editing = "name"
        # A group's size is typed on page 1, never a default that a group of 25 overlooks.
        entry.group_size = 0 if group else 1
        entry.gender_counts = dict.fromkeys(gender_keys, 0) if group else {}
        if entry.gender_counts:
            entry.group_size = 0
        asked = {f.key for f in guest_entry.fields_for(self._guest_fields, group)}
        entry.answers = {k: v for k, v in entry.answers.items() if k in asked}
        j.internet_allowed = self._guest_internet and not group
        j.want_internet = False

    def _guest(self) -> GuestEntry | None:
        return self._journey.guest if self._state is State.guest else None

    def guest_press(self, key: str) -> list[Command]:
        """A key of the name keyboard, for the field being edited."""
        entry = self._guest()
        if entry is not None:
            guest_entry.press(entry, key)
            if entry.editing == "group_size":
                entry.group_size = min(entry.group_size, self._max_group)
            self._touch()
        return []

    def guest_edit(self, which: str) -> list[Command]:
        """Which text the keyboard types into: "name", "institution" or "group_size"."""
        entry = self._guest()
        if entry is not None and which == "group_size" and entry.group:
            entry.editing = which
            entry.group_size = 0 if not entry.gender_counts else entry.group_size
            self._touch()
        elif entry is not None and which in ("name", "institution"):
            entry.editing = which
            text = entry.name if which == "name" else entry.institution
            entry.shift = text == "" or text.endswith(" ")
            self._touch()
        return []

    def guest_answer(self, key: str, value: str) -> list[Command]:
        entry = self._guest()
        fields = guest_entry.fields_for(self._guest_fields, entry.group) if entry else []
        if entry is not None and any(f.key == key for f in fields):
            if value:
                entry.answers[key] = value
            else:
                entry.answers.pop(key, None)
            self._touch()
        return []

    def guest_group_size(self, size: int) -> list[Command]:
        entry = self._guest()
        if entry is not None:
            guest_entry.set_group_size(entry, size)
            self._touch()
        return []

    def guest_gender_count(self, key: str, count: int) -> list[Command]:
        entry = self._guest()
        if entry is not None:
            guest_entry.set_gender_count(entry, key, count)
            self._touch()
        return []

    def guest_missing(self) -> list[str]:
        """What the guest form still needs before "Kirim" (see guest_entry.missing)."""
        entry = self._guest()
        return [] if entry is None else guest_entry.missing(entry, self._guest_fields)

    def guest_want_internet(self, wanted: bool) -> list[Command]:
        if self._guest() is not None:
            self._journey.want_internet = wanted and self._journey.internet_allowed
            self._touch()
        return []

    def guest_can_send(self) -> bool:
        entry = self._guest()
        return entry is not None and guest_entry.can_send(entry, self._guest_fields)

    def guest_submit(self) -> list[Command]:
        entry = self._guest()
        if entry is None or not guest_entry.can_send(entry, self._guest_fields):
            return []
        j = self._journey
        body = guest_entry.visit_body(
            entry,
            self._guest_fields,
            client_ref=j.client_ref,
            kiosk_id=self._kiosk_id,
            occurred_at=self._wall_clock().isoformat(),
            want_internet=j.want_internet,
        )
        request = protocol.GuestVisitRequest.model_validate(body)
        self._pending_guest = request
        self._enter(State.sending_guest)
        return [SendGuestVisit(j.number, request)]

    def guest_succeeded(self, journey: int, credential: Credential | None) -> list[Command]:
        if not self._current(journey, State.sending_guest):
            return []
        entry = self._journey.guest
        self._keep_survey_profile(entry.answers, f"{entry.name}\n{entry.institution}")
        # The thank-you greets the visitor by the name they typed (shortened, on a public screen).
        self._journey.member_name = guest_entry.short_name(entry.name)
        self._journey.guest = GuestEntry()
        if credential is None:
            self._enter(State.thanks)
        else:
            self._journey.credential = credential
            self._enter(State.credentials)
        return []

    def guest_failed(self, journey: int, code: str) -> list[Command]:
        """Any failure keeps the visit: it goes to the outbox without internet (a guest
        voucher is for now, not for later), under the same client_ref."""
        if not self._current(journey, State.sending_guest):
            return []
        if self._pending_guest is None:
            return []
        body = self._pending_guest.model_copy(update={"want_internet": False})
        if code == "guest_internet_unavailable":
            self._show_notice(Notice.guest_internet_unavailable)
        else:
            self._show_notice(Notice.backend_unreachable)
        return [QueueVisit(journey, body)]
