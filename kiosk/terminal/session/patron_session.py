"""The patron session's words: states, notices, commands for the runner, what a screen draws."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from kiosk import protocol
from kiosk.terminal.session.guest_entry import GuestEntry


class State(StrEnum):
    idle = "idle"  # Welcome: camera live, "hold your card up"
    keypad = "keypad"  # typing the member number by hand
    looking_up = "looking_up"
    guestbook = "guestbook"  # greeting + guestbook fields
    checking_in = "checking_in"
    credentials = "credentials"  # username and password on screen
    thanks = "thanks"  # guestbook only, no internet asked
    notice = "notice"  # a side exit, in plain words
    birth_date = "birth_date"  # a typed number asks internet: the member's birth date
    guest = "guest"  # a non-member or a group leader fills in the guest form
    sending_guest = "sending_guest"
    out_of_service = "out_of_service"
    survey = "survey"  # the optional satisfaction survey (SKM), one element per page


class Notice(StrEnum):
    card_not_recognised = "card_not_recognised"  # a rejected read: not this library's card
    member_not_found = "member_not_found"
    member_expired = "member_expired"
    member_blocked = "member_blocked"
    backend_unreachable = "backend_unreachable"  # guestbook entry kept, sent later
    provisioning_unavailable = "provisioning_unavailable"  # visit recorded, no credential
    guest_internet_unavailable = "guest_internet_unavailable"  # visit kept, no voucher
    # A typed number whose typed entry is locked (too many wrong birth dates): visit kept.
    show_card = "show_card"
    busy = "busy"  # something went wrong that staff should see (e.g. outbox full)


# Which notice a backend error code leads to. Any other code (a rotated token, a proxy's
# 404, a refused body) is the kiosk's problem, not the patron's: it is handled like an
# unreachable backend, so the guestbook is kept and staff see the cause in the outbox.
NOTICE_FOR_CODE: Mapping[str, Notice] = {
    "member_not_found": Notice.member_not_found,
    "member_expired": Notice.member_expired,
    "member_blocked": Notice.member_blocked,
    "provisioning_unavailable": Notice.provisioning_unavailable,
}

# ------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Lookup:
    journey: int
    card: str
    entry: protocol.Entry = "scan"


@dataclass(frozen=True)
class Checkin:
    journey: int
    body: protocol.CheckinRequest


@dataclass(frozen=True)
class QueueVisit:
    """Keep the guestbook entry (or a survey) in the outbox; it goes to POST /visits later."""

    journey: int
    body: protocol.VisitRequest | protocol.GuestVisitRequest | protocol.SatisfactionRequest


@dataclass(frozen=True)
class SendGuestVisit:
    journey: int
    body: protocol.GuestVisitRequest


@dataclass(frozen=True)
class Beep:
    kind: str  # "read", "rejected"


Command = Lookup | Checkin | QueueVisit | SendGuestVisit | Beep


# ---------------------------------------------------------------------- view


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    expires_at: dt.datetime
    reused: bool

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, reused={self.reused})"


@dataclass(kw_only=True)
class Shown:
    """What the patron entered or was told in this journey, as the screens show it."""

    member_name: str = ""
    member_status: str = ""
    offline: bool = False  # the backend could not be reached: guestbook is kept locally
    internet_allowed: bool = True
    answers: dict[str, str] = field(default_factory=dict)
    want_internet: bool = True
    keypad_text: str = ""
    credential: Credential | None = None
    notice: Notice | None = None
    # What internet needs at this entry (the lookup's answer): "none", "birth_date" (the
    # date pad) or "card" (a typed number that cannot be verified: no internet here).
    verification: str = "none"
    typed: bool = False  # the number came from the keypad (a typo can be corrected)
    birth_date_text: str = ""  # the digits typed on the date pad, DDMMYYYY
    # Why the date pad asks again: "impossible", "future" or "wrong" (the backend's answer).
    date_error: str = ""

    def shown(self) -> dict[str, Any]:
        """A copy of the shown fields, for a View."""
        return {f.name: copy.copy(getattr(self, f.name)) for f in fields(Shown)}


@dataclass(kw_only=True)
class View(Shown):
    """Everything a screen needs to draw the current state; nothing more (a snapshot)."""

    state: State
    journey: int
    deadline: float
    camera_ok: bool = True
    guest: GuestEntry | None = None  # the guest form's entry (a copy), in State.guest


@dataclass(kw_only=True)
class Journey(Shown):
    """What one patron entered: dropped as a whole when the session ends."""

    number: int
    card: str = ""
    client_ref: str = ""
    guest: GuestEntry = field(default_factory=GuestEntry)
