"""A typed member number's date pad: internet only with the birth date, a wrong one asked
again, a locked or unverifiable one kept as a plain visit with "show your card"."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk import protocol
from kiosk.config import Settings
from kiosk.terminal.session.birth_date_flow import birth_date_of
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import Checkin, Lookup, Notice, QueueVisit, State
from tests.terminal.session.test_flow import CRED, LAST, TIMEOUTS, Clock

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def flow() -> Flow:
    return Flow(
        Settings().guestbook.fields,
        TIMEOUTS,
        "kiosk-test",
        now=Clock(),
        wall_clock=lambda: dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC),
    )


def typed(flow: Flow, verification: str = "birth_date") -> int:
    flow.keypad_open()
    for key in "19000123":
        flow.keypad_press(key)
    (lookup,) = flow.keypad_submit()
    assert lookup == Lookup(lookup.journey, "19000123", "typed")
    flow.lookup_succeeded(
        lookup.journey,
        name="Siti A.",
        status="active",
        last_answers=LAST,
        verification=verification,
    )
    for key, value in LAST.items():
        flow.answer(key, value)
    return lookup.journey


def type_date(flow: Flow, digits: str) -> list[object]:
    for key in digits:
        flow.date_press(key)
    return list(flow.date_submit())


def test_dates_are_read_as_day_month_year_and_impossible_ones_refused() -> None:
    assert birth_date_of("17082004", TODAY) == (dt.date(2004, 8, 17), "")
    assert birth_date_of("31022000", TODAY) == (None, "impossible")
    assert birth_date_of("29022001", TODAY) == (None, "impossible")
    assert birth_date_of("29022000", TODAY) == (dt.date(2000, 2, 29), "")
    assert birth_date_of("01012030", TODAY) == (None, "future")
    assert birth_date_of("1708200", TODAY) == (None, "impossible")
    assert birth_date_of("17081850", TODAY) == (None, "impossible")


def test_a_typed_number_asking_internet_goes_to_the_date_pad_then_checks_in_with_it(
    flow: Flow,
) -> None:
    journey = typed(flow)
    assert flow.submit() == []
    assert flow.state is State.birth_date
    (checkin,) = type_date(flow, "17082004")
    assert isinstance(checkin, Checkin)
    assert checkin.body.entry == "typed"
    assert checkin.body.verification == protocol.Verification(birth_date=dt.date(2004, 8, 17))
    flow.checkin_succeeded(journey, CRED)
    assert flow.state is State.credentials


def test_a_typed_number_without_internet_needs_no_birth_date(flow: Flow) -> None:
    typed(flow)
    flow.set_want_internet(False)
    (checkin,) = flow.submit()
    assert isinstance(checkin, Checkin)
    assert checkin.body.entry == "typed" and checkin.body.verification is None


def test_a_scanned_card_sends_scan_and_no_date_pad(flow: Flow) -> None:
    (_, lookup) = flow.card_read("19000123")
    assert isinstance(lookup, Lookup) and lookup.entry == "scan"
    flow.lookup_succeeded(lookup.journey, name="Siti Aminah", status="active", last_answers=LAST)
    (checkin,) = flow.submit()
    assert isinstance(checkin, Checkin) and checkin.body.entry == "scan"


def test_an_impossible_or_future_date_is_refused_before_sending(flow: Flow) -> None:
    typed(flow)
    flow.submit()
    assert type_date(flow, "31022000") == []
    assert (flow.state, flow.view.date_error) == (State.birth_date, "impossible")
    flow.date_press("clear")
    assert flow.view.date_error == ""
    assert type_date(flow, "01012030") == []
    assert flow.view.date_error == "future"
    flow.date_press("clear")
    assert type_date(flow, "1708") == []  # not all eight digits
    assert flow.view.date_error == "impossible"


def test_date_pad_keys_take_eight_digits_only(flow: Flow) -> None:
    typed(flow)
    flow.submit()
    for key in "1708x2004999":
        flow.date_press(key)
    assert flow.view.birth_date_text == "17082004"
    flow.date_press("back")
    assert flow.view.birth_date_text == "1708200"


def test_a_wrong_birth_date_asks_again_with_the_answers_and_client_ref_kept(flow: Flow) -> None:
    journey = typed(flow)
    flow.submit()
    (first,) = type_date(flow, "01012000")
    assert isinstance(first, Checkin)
    assert flow.checkin_failed(journey, "verification_failed") == []
    assert flow.state is State.birth_date
    assert (flow.view.date_error, flow.view.birth_date_text) == ("wrong", "")
    (second,) = type_date(flow, "17082004")
    assert isinstance(second, Checkin)
    assert second.body.client_ref == first.body.client_ref
    assert second.body.answers == first.body.answers
    assert second.body.verification == protocol.Verification(birth_date=dt.date(2004, 8, 17))


def test_a_locked_typed_entry_keeps_a_plain_visit_and_says_show_your_card(flow: Flow) -> None:
    journey = typed(flow)
    flow.submit()
    (checkin,) = type_date(flow, "01012000")
    assert isinstance(checkin, Checkin)
    (queued,) = flow.checkin_failed(journey, "verification_locked")
    assert isinstance(queued, QueueVisit)
    assert queued.body.client_ref == checkin.body.client_ref
    assert isinstance(queued.body, protocol.VisitRequest)
    assert queued.body.verification is None and not queued.body.want_internet
    assert queued.body.entry == "typed"
    assert (flow.state, flow.view.notice) == (State.notice, Notice.show_card)


def test_an_unreachable_backend_after_the_date_pad_queues_no_birth_date(flow: Flow) -> None:
    journey = typed(flow)
    flow.submit()
    type_date(flow, "17082004")
    (queued,) = flow.checkin_failed(journey, "unreachable")
    assert isinstance(queued, QueueVisit)
    assert isinstance(queued.body, protocol.VisitRequest)
    assert queued.body.verification is None


def test_a_member_that_cannot_be_verified_gets_no_internet_switch_and_no_date_pad(
    flow: Flow,
) -> None:
    journey = typed(flow, verification="card")
    assert not flow.view.internet_allowed and not flow.view.want_internet
    flow.set_want_internet(True)
    assert not flow.view.want_internet
    (checkin,) = flow.submit()
    assert isinstance(checkin, Checkin) and not checkin.body.want_internet
    flow.checkin_succeeded(journey, None)
    assert (flow.state, flow.view.verification) == (State.thanks, "card")


def test_batal_on_the_date_pad_goes_back_to_the_guestbook(flow: Flow) -> None:
    typed(flow)
    flow.submit()
    flow.date_press("1")
    flow.date_cancel()
    assert flow.state is State.guestbook
    assert flow.view.birth_date_text == ""
    assert flow.view.answers
