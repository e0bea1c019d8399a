"""The guest and group journey of the patron session, and the name keyboard's typing."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.config import Settings, Timeouts
from kiosk.terminal.session import guest_entry
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.guest_entry import GuestEntry
from kiosk.terminal.session.patron_session import (
    Credential,
    Notice,
    QueueVisit,
    SendGuestVisit,
    State,
)

TIMEOUTS = Timeouts(
    lookup=8, guestbook=90, checkin=12, credentials=60, thanks=8, notice=10, keypad=45
)
ANSWERS = {"purpose": "membaca", "occupation": "pelajar", "education": "sma", "gender": "perempuan"}


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_flow(clock: Clock, *, internet: bool = False) -> Flow:
    return Flow(
        Settings().guestbook.fields,
        TIMEOUTS,
        "kiosk-test",
        now=clock,
        wall_clock=lambda: dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        guest_fields=list(Settings().guests.fields),
        guest_internet=internet,
    )


def type_text(flow: Flow, text: str) -> None:
    for ch in text:
        flow.guest_press("space" if ch == " " else ch.lower())


def fill(flow: Flow, name: str = "siti nur'aini") -> None:
    type_text(flow, name)
    for key, value in ANSWERS.items():
        flow.guest_answer(key, value)


def test_the_keyboard_writes_names_as_names_are_written() -> None:
    entry = GuestEntry()
    for key in ["s", "i", "t", "i", "space", "n", "u", "r", "'", "a", "space", "b", "-", "l"]:
        guest_entry.press(entry, key)
    assert entry.name == "Siti Nur'a B-L"
    guest_entry.press(entry, "back")
    guest_entry.press(entry, "shift")
    guest_entry.press(entry, "é")
    assert entry.name == "Siti Nur'a B-é"
    for _ in range(100):
        guest_entry.press(entry, "a")
    assert len(entry.name) == guest_entry.MAX_NAME
    guest_entry.press(entry, "\n")
    assert "\n" not in entry.name


def test_a_guest_signs_and_the_body_is_a_valid_guest_visit() -> None:
    clock = Clock()
    flow = make_flow(clock)
    flow.guest_open()
    assert flow.state is State.guest and not flow.view.internet_allowed
    assert not flow.guest_can_send()
    fill(flow)
    flow.guest_edit("institution")
    type_text(flow, "sma negeri 3")
    assert flow.view.guest is not None and flow.view.guest.institution == "Sma Negeri 3"
    (command,) = flow.guest_submit()
    assert isinstance(command, SendGuestVisit) and flow.state is State.sending_guest
    request = command.body
    assert request.name == "Siti Nur'aini" and request.group_size == 1
    assert not request.want_internet
    flow.guest_succeeded(command.journey, None)
    assert flow.state is State.thanks


def test_a_group_needs_an_institution_and_two_or_more_people() -> None:
    flow = make_flow(Clock())
    flow.guest_open(group=True)
    fill(flow, "bu rina")
    assert not flow.guest_can_send()
    flow.guest_edit("institution")
    type_text(flow, "sd negeri 5")
    flow.guest_group_size(1)
    assert flow.view.guest is not None and flow.view.guest.group_size == 2
    flow.guest_group_size(31)
    (command,) = flow.guest_submit()
    assert isinstance(command, SendGuestVisit)
    assert command.body.group_size == 31


@pytest.mark.parametrize(
    ("code", "notice"),
    [
        ("guest_internet_unavailable", Notice.guest_internet_unavailable),
        ("unreachable", Notice.backend_unreachable),
    ],
)
def test_a_failed_guest_visit_is_kept_without_internet(code: str, notice: Notice) -> None:
    flow = make_flow(Clock(), internet=True)
    flow.guest_open()
    fill(flow)
    flow.guest_want_internet(True)
    (sent,) = flow.guest_submit()
    assert isinstance(sent, SendGuestVisit) and sent.body.want_internet is True
    (queued,) = flow.guest_failed(sent.journey, code)
    assert isinstance(queued, QueueVisit)
    assert queued.body == sent.body.model_copy(update={"want_internet": False})
    assert flow.state is State.notice and flow.view.notice is notice


def test_a_voucher_is_shown_and_a_timeout_keeps_the_visit() -> None:
    clock = Clock()
    flow = make_flow(clock, internet=True)
    flow.guest_open()
    fill(flow)
    flow.guest_want_internet(True)
    (sent,) = flow.guest_submit()
    voucher = Credential("gk7m3x", "Hq4tZ8wa", dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC), False)
    flow.guest_succeeded(sent.journey, voucher)
    assert flow.state is State.credentials and flow.view.credential == voucher
    flow.cancel()
    flow.guest_open()
    fill(flow)
    (sent,) = flow.guest_submit()
    clock.t += TIMEOUTS.checkin + 1
    (queued,) = flow.tick()
    assert isinstance(queued, QueueVisit) and flow.state is State.notice
    assert flow.guest_succeeded(sent.journey, None) == []  # too late: dropped


def test_a_group_answers_its_purpose_only_and_may_count_by_gender() -> None:
    flow = make_flow(Clock())
    flow.guest_open(group=True, gender_keys=("laki_laki", "perempuan"))
    type_text(flow, "bu rina")
    flow.guest_edit("institution")
    type_text(flow, "sd negeri 5")
    assert flow.guest_missing() == ["group_size", "purpose"]
    flow.guest_answer("occupation", "pelajar")  # not a group's question: ignored
    flow.guest_answer("purpose", "membaca")
    flow.guest_gender_count("laki_laki", 12)
    flow.guest_gender_count("perempuan", 19)
    flow.guest_group_size(3)  # the size follows the counts
    assert flow.guest_missing() == [] and flow.guest_can_send()
    (command,) = flow.guest_submit()
    assert isinstance(command, SendGuestVisit)
    assert command.body.group_size == 31
    assert command.body.answers == {
        "purpose": "membaca",
        "count_laki_laki": 12,
        "count_perempuan": 19,
    }


def test_a_guest_is_told_what_is_missing() -> None:
    flow = make_flow(Clock())
    flow.guest_open()
    assert flow.guest_missing() == ["name", "purpose", "occupation", "education", "gender"]
    fill(flow)
    assert flow.guest_missing() == []


def test_the_alone_or_group_switch_keeps_the_name_and_drops_what_a_group_is_not_asked() -> None:
    flow = make_flow(Clock(), internet=True)
    flow.guest_open()
    fill(flow)  # a guest's name and all four answers
    flow.guest_want_internet(True)
    flow.guest_set_group(True, ("laki_laki", "perempuan"))
    entry = flow.view.guest
    assert entry is not None and entry.group and entry.name == "Siti Nur'aini"
    assert entry.answers == {"purpose": ANSWERS["purpose"]}
    assert entry.gender_counts == {"laki_laki": 0, "perempuan": 0} and entry.group_size == 0
    assert not flow.view.internet_allowed and not flow.view.want_internet  # no group voucher
    assert "institution" in flow.guest_missing()
    flow.guest_set_group(False)
    entry = flow.view.guest
    assert entry is not None and not entry.group and entry.group_size == 1
    assert entry.gender_counts == {} and flow.view.internet_allowed
    assert flow.guest_missing() == ["occupation", "education", "gender"]
    flow.cancel()
    assert flow.guest_set_group(True) == [] and flow.view.guest is None  # not on the form


def test_a_group_types_its_size_on_the_digit_row_within_the_configured_largest() -> None:
    flow = make_flow(Clock())
    flow.guest_open(group=True)
    assert flow.view.guest is not None and flow.view.guest.group_size == 0  # no default of 2
    assert "group_size" in flow.guest_missing()
    flow.guest_edit("group_size")
    for key in "25":
        flow.guest_press(key)
    assert flow.view.guest.group_size == 25
    flow.guest_press("back")
    assert flow.view.guest.group_size == 2
    for key in "9999":
        flow.guest_press(key)
    assert flow.view.guest.group_size == guest_entry.MAX_GROUP
    flow.guest_set_group(False)  # alone again: the keyboard types the name, not a size
    assert flow.view.guest.editing == "name"
