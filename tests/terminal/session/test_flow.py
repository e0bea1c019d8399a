"""The patron session state machine: every transition, every side exit, every timeout."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kiosk import protocol
from kiosk.config import Settings, Timeouts
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import (
    Beep,
    Checkin,
    Credential,
    Lookup,
    Notice,
    QueueVisit,
    State,
    View,
)

TIMEOUTS = Timeouts(
    lookup=8, guestbook=90, checkin=12, credentials=60, thanks=8, notice=10, keypad=45, same_card=30
)
LAST = {"purpose": "internet", "occupation": "mahasiswa", "education": "s1", "institution": "UBB"}
CRED = Credential("pk7m3x", "Hq4tZ8wa", dt.datetime(2026, 11, 29, tzinfo=dt.UTC), reused=False)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def views() -> list[View]:
    return []


@pytest.fixture
def flow(clock: Clock, views: list[View]) -> Flow:
    return Flow(
        Settings().guestbook.fields,
        TIMEOUTS,
        "kiosk-test",
        now=clock,
        wall_clock=lambda: dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC),
        on_change=views.append,
    )


def looked_up(flow: Flow, status: str = "active", last: dict[str, str] | None = None) -> int:
    commands = flow.card_read("A19000123B")
    lookup = next(c for c in commands if isinstance(c, Lookup))
    flow.lookup_succeeded(lookup.journey, name="Siti Aminah", status=status, last_answers=last)
    return lookup.journey


def submitted(flow: Flow) -> Checkin:
    looked_up(flow, last=LAST)
    commands = flow.submit()
    assert len(commands) == 1 and isinstance(commands[0], Checkin)
    return commands[0]


def test_kiosk_starts_idle_with_no_deadline(flow: Flow) -> None:
    assert flow.state is State.idle
    assert flow.seconds_left() == float("inf")


def test_card_read_beeps_and_looks_up_the_card(flow: Flow) -> None:
    commands = flow.card_read("  A19000123B ")
    assert commands[0] == Beep("read")
    assert isinstance(commands[1], Lookup) and commands[1].card == "A19000123B"
    assert flow.state is State.looking_up


def test_found_member_is_greeted_with_guestbook(flow: Flow) -> None:
    looked_up(flow)
    view = flow.view
    assert view.state is State.guestbook
    assert view.member_name == "Siti Aminah"
    assert view.want_internet is True


def test_returning_member_gets_last_answers_preselected_and_can_submit_at_once(
    flow: Flow,
) -> None:
    looked_up(flow, last=LAST)
    assert dict(flow.view.answers) == LAST
    assert flow.can_submit()


def test_new_member_cannot_submit_until_required_fields_are_answered(flow: Flow) -> None:
    looked_up(flow)
    assert not flow.can_submit()
    assert flow.submit() == []
    flow.answer("purpose", "internet")
    flow.answer("occupation", "pelajar")
    flow.answer("education", "sma")
    assert flow.can_submit()


def test_submit_sends_checkin_with_one_client_ref_and_aware_time(flow: Flow) -> None:
    checkin = submitted(flow)
    body = checkin.body
    assert isinstance(body, protocol.CheckinRequest), "a protocol model, not a dict"
    assert isinstance(body.client_ref, uuid.UUID)
    assert body.card == "A19000123B"
    assert body.want_internet is True
    assert body.kiosk_id == "kiosk-test"
    assert body.occurred_at.utcoffset() is not None
    assert body.answers["purpose"] == "internet"
    assert flow.state is State.checking_in


def test_each_journey_has_its_own_client_ref(flow: Flow) -> None:
    first = submitted(flow).body.client_ref
    flow.checkin_succeeded(flow.view.journey, CRED)
    flow.cancel()
    flow.touch()  # the next patron taps Welcome (else the same card is ignored a while)
    second = submitted(flow).body.client_ref
    assert first != second


def test_credential_is_shown_after_checkin(flow: Flow) -> None:
    checkin = submitted(flow)
    flow.checkin_succeeded(checkin.journey, CRED)
    view = flow.view
    assert view.state is State.credentials
    assert view.credential == CRED
    assert view.answers == {}


def test_guestbook_only_visit_gets_thanks_not_credentials(flow: Flow) -> None:
    looked_up(flow, last=LAST)
    flow.set_want_internet(False)
    checkin = flow.submit()[0]
    assert isinstance(checkin, Checkin) and checkin.body.want_internet is False
    flow.checkin_succeeded(checkin.journey, None)
    assert flow.state is State.thanks


def test_rejected_read_shows_card_not_recognised(flow: Flow) -> None:
    commands = flow.card_rejected("9780131103627")
    assert commands == [Beep("rejected")]
    assert flow.view.notice is Notice.card_not_recognised


@pytest.mark.parametrize(
    ("code", "notice"),
    [
        ("member_not_found", Notice.member_not_found),
        ("member_expired", Notice.member_expired),
        ("member_blocked", Notice.member_blocked),
    ],
)
def test_lookup_errors_lead_to_their_notice(flow: Flow, code: str, notice: Notice) -> None:
    lookup = flow.card_read("A19000999B")[1]
    assert isinstance(lookup, Lookup)
    flow.lookup_failed(lookup.journey, code)
    assert flow.state is State.notice and flow.view.notice is notice


@pytest.mark.parametrize("status", ["expired", "blocked"])
def test_expired_or_blocked_member_signs_guestbook_without_internet(
    flow: Flow, status: str
) -> None:
    looked_up(flow, status=status, last=LAST)
    assert flow.view.internet_allowed is False
    flow.set_want_internet(True)
    assert flow.view.want_internet is False
    checkin = flow.submit()[0]
    assert isinstance(checkin, Checkin) and checkin.body.want_internet is False


def test_backend_unreachable_at_lookup_keeps_guestbook_offline(flow: Flow) -> None:
    lookup = flow.card_read("A19000123B")[1]
    assert isinstance(lookup, Lookup)
    flow.lookup_failed(lookup.journey, "unreachable")
    view = flow.view
    assert view.state is State.guestbook and view.offline and not view.internet_allowed
    for key, value in (("purpose", "membaca"), ("occupation", "swasta"), ("education", "sma")):
        flow.answer(key, value)
    commands = flow.submit()
    assert len(commands) == 1 and isinstance(commands[0], QueueVisit)
    assert commands[0].body.card == "A19000123B"
    assert flow.view.notice is Notice.backend_unreachable


def test_backend_unreachable_at_checkin_queues_the_same_client_ref(flow: Flow) -> None:
    checkin = submitted(flow)
    commands = flow.checkin_failed(checkin.journey, "unreachable")
    assert len(commands) == 1 and isinstance(commands[0], QueueVisit)
    assert commands[0].body.client_ref == checkin.body.client_ref
    assert flow.view.notice is Notice.backend_unreachable
    assert flow.view.answers == {}


@pytest.mark.parametrize(
    "code", ["unauthorized", "not_found", "invalid_request", "payload_too_large", "internal_error"]
)
def test_a_lookup_error_that_is_not_about_the_patron_keeps_the_guestbook_offline(
    flow: Flow, code: str
) -> None:
    lookup = flow.card_read("A19000123B")[1]
    assert isinstance(lookup, Lookup)
    flow.lookup_failed(lookup.journey, code)
    assert flow.state is State.guestbook and flow.view.offline


@pytest.mark.parametrize("code", ["unauthorized", "invalid_request", "client_ref_conflict"])
def test_a_checkin_error_that_is_not_about_the_patron_queues_the_visit(
    flow: Flow, code: str
) -> None:
    checkin = submitted(flow)
    commands = flow.checkin_failed(checkin.journey, code)
    assert commands == [QueueVisit(checkin.journey, checkin.body)]
    assert flow.view.notice is Notice.backend_unreachable


def test_provisioning_unavailable_records_the_visit_and_says_see_staff(flow: Flow) -> None:
    checkin = submitted(flow)
    commands = flow.checkin_failed(checkin.journey, "provisioning_unavailable")
    # The very body of the check-in: a replay if the backend recorded it after all.
    assert commands == [QueueVisit(checkin.journey, checkin.body)]
    assert flow.view.notice is Notice.provisioning_unavailable


def test_typed_number_that_cannot_be_a_card_is_refused_without_a_lookup(
    clock: Clock,
) -> None:
    flow = Flow(
        Settings().guestbook.fields,
        TIMEOUTS,
        "kiosk-test",
        now=clock,
        card_check=lambda text: text.startswith("19") and len(text) == 8,
    )
    flow.keypad_open()
    for key in "123":
        flow.keypad_press(key)
    assert flow.keypad_submit() == []
    assert flow.view.notice is Notice.member_not_found
    flow.keypad_open()
    for key in "19000123":
        flow.keypad_press(key)
    assert isinstance(flow.keypad_submit()[0], Lookup)


def test_journey_numbers_never_repeat_across_flows(clock: Clock) -> None:
    first = Flow(Settings().guestbook.fields, TIMEOUTS, "k", now=clock)
    second = Flow(Settings().guestbook.fields, TIMEOUTS, "k", now=clock)
    first.card_read("19000123")
    second.card_read("19000123")
    assert first.view.journey != second.view.journey


def test_member_expired_at_checkin_still_records_plain_visit(flow: Flow) -> None:
    checkin = submitted(flow)
    commands = flow.checkin_failed(checkin.journey, "member_expired")
    assert isinstance(commands[0], QueueVisit)
    assert flow.view.notice is Notice.member_expired


def test_checkin_rejected_as_not_found_queues_nothing(flow: Flow) -> None:
    checkin = submitted(flow)
    assert flow.checkin_failed(checkin.journey, "member_not_found") == []
    assert flow.view.notice is Notice.member_not_found


def test_queue_failure_tells_patron_to_see_staff(flow: Flow) -> None:
    checkin = submitted(flow)
    flow.checkin_failed(checkin.journey, "unreachable")
    flow.queue_failed(checkin.journey)
    assert flow.view.notice is Notice.busy


def test_keypad_entry_looks_up_typed_number(flow: Flow) -> None:
    flow.keypad_open()
    assert flow.state is State.keypad
    for key in "190001234":
        flow.keypad_press(key)
    flow.keypad_press("back")
    assert flow.view.keypad_text == "19000123"
    commands = flow.keypad_submit()
    assert commands == [Lookup(flow.view.journey, "19000123", "typed")]


def test_keypad_clear_and_length_limit(flow: Flow) -> None:
    flow.keypad_open()
    for _ in range(30):
        flow.keypad_press("9")
    assert len(flow.view.keypad_text) == 20
    flow.keypad_press("clear")
    assert flow.view.keypad_text == ""
    assert flow.keypad_submit() == []


def test_leaving_keypad_forgets_the_digits(flow: Flow) -> None:
    flow.keypad_open()
    flow.keypad_press("1")
    flow.cancel()
    flow.keypad_open()
    assert flow.view.keypad_text == ""


def test_card_read_during_another_patrons_guestbook_is_ignored(flow: Flow) -> None:
    looked_up(flow, last=LAST)
    journey = flow.view.journey
    assert flow.card_read("A19000124B") == []
    assert flow.card_rejected("9780131103627") == []
    assert flow.view.journey == journey and flow.view.member_name == "Siti Aminah"


def test_card_read_on_a_notice_starts_a_new_session(flow: Flow) -> None:
    flow.card_rejected("9780131103627")
    commands = flow.card_read("A19000123B")
    assert any(isinstance(c, Lookup) for c in commands)
    assert flow.state is State.looking_up


def test_late_lookup_answer_for_an_old_journey_is_dropped(flow: Flow, clock: Clock) -> None:
    lookup = flow.card_read("A19000123B")[1]
    assert isinstance(lookup, Lookup)
    flow.cancel()  # ignored while looking up
    clock.advance(TIMEOUTS.lookup + 1)
    flow.tick()  # lookup timed out -> offline guestbook
    flow.cancel()
    assert flow.lookup_succeeded(lookup.journey, name="X", status="active", last_answers=None) == []
    assert flow.state is State.idle


def test_lookup_timeout_goes_to_offline_guestbook(flow: Flow, clock: Clock) -> None:
    flow.card_read("A19000123B")
    clock.advance(TIMEOUTS.lookup)
    flow.tick()
    assert flow.state is State.guestbook and flow.view.offline


def test_checkin_timeout_queues_visit(flow: Flow, clock: Clock) -> None:
    checkin = submitted(flow)
    clock.advance(TIMEOUTS.checkin)
    commands = flow.tick()
    assert isinstance(commands[0], QueueVisit)
    assert commands[0].body.client_ref == checkin.body.client_ref
    # the real answer arriving afterwards changes nothing
    assert flow.checkin_succeeded(checkin.journey, CRED) == []
    assert flow.view.credential is None


@pytest.mark.parametrize(
    ("reach", "seconds"),
    [
        ("keypad", TIMEOUTS.keypad),
        ("guestbook", TIMEOUTS.guestbook),
        ("credentials", TIMEOUTS.credentials),
        ("thanks", TIMEOUTS.thanks),
        ("notice", TIMEOUTS.notice),
    ],
)
def test_every_patron_state_times_out_to_welcome_forgetting_everything(
    flow: Flow, clock: Clock, reach: str, seconds: float
) -> None:
    if reach == "keypad":
        flow.keypad_open()
        flow.keypad_press("1")
    elif reach == "guestbook":
        looked_up(flow, last=LAST)
    elif reach == "credentials":
        flow.checkin_succeeded(submitted(flow).journey, CRED)
    elif reach == "thanks":
        flow.checkin_succeeded(submitted(flow).journey, None)
    else:
        flow.card_rejected("nope")
    assert flow.state.value == reach
    clock.advance(seconds - 0.5)
    flow.tick()
    assert flow.state.value == reach
    clock.advance(0.5)
    flow.tick()
    view = flow.view
    assert view.state is State.idle
    assert (view.member_name, view.keypad_text, view.credential, view.notice) == (
        "",
        "",
        None,
        None,
    )
    assert view.answers == {}


def test_touch_in_guestbook_extends_its_deadline(flow: Flow, clock: Clock) -> None:
    looked_up(flow, last=LAST)
    clock.advance(TIMEOUTS.guestbook - 1)
    flow.touch()
    clock.advance(TIMEOUTS.guestbook - 1)
    flow.tick()
    assert flow.state is State.guestbook


def test_touch_does_not_extend_credentials_countdown(flow: Flow, clock: Clock) -> None:
    flow.checkin_succeeded(submitted(flow).journey, CRED)
    clock.advance(TIMEOUTS.credentials - 1)
    flow.touch()
    clock.advance(1)
    flow.tick()
    assert flow.state is State.idle


def test_selesai_clears_the_credential_at_once(flow: Flow) -> None:
    flow.checkin_succeeded(submitted(flow).journey, CRED)
    flow.cancel()
    assert flow.state is State.idle and flow.view.credential is None


def test_cancel_is_ignored_while_waiting_for_the_backend(flow: Flow) -> None:
    submitted(flow)
    flow.cancel()
    assert flow.state is State.checking_in


def test_out_of_service_blocks_patrons_and_survives_reset(flow: Flow) -> None:
    looked_up(flow, last=LAST)
    flow.set_out_of_service(True)
    assert flow.state is State.out_of_service and flow.view.member_name == ""
    assert flow.card_read("A19000123B") == []
    assert flow.keypad_open() == []
    flow.reset()
    assert flow.state is State.out_of_service
    flow.set_out_of_service(False)
    assert flow.state is State.idle


def test_camera_state_is_shown_on_welcome(flow: Flow) -> None:
    flow.camera_changed(False)
    assert flow.view.camera_ok is False
    flow.camera_changed(True)
    assert flow.view.camera_ok is True


def test_every_change_is_published(flow: Flow, views: list[View]) -> None:
    looked_up(flow)
    assert [v.state for v in views] == [State.looking_up, State.guestbook]


def test_credential_repr_hides_the_password() -> None:
    assert "Hq4tZ8wa" not in repr(CRED)


# ------------------------------------------------- the same card after "Selesai"


def test_same_card_right_after_selesai_is_ignored_for_a_while(flow: Flow, clock: Clock) -> None:
    flow.checkin_succeeded(submitted(flow).journey, CRED)
    flow.cancel()
    clock.advance(4)
    assert flow.card_read(" A19000123B ") == []  # still held up
    assert flow.state is State.idle
    clock.advance(TIMEOUTS.same_card)
    assert any(isinstance(c, Lookup) for c in flow.card_read("A19000123B"))


def test_same_card_after_a_guestbook_timeout_is_ignored_too(flow: Flow, clock: Clock) -> None:
    looked_up(flow)
    clock.advance(TIMEOUTS.guestbook)
    flow.tick()
    assert flow.state is State.idle
    assert flow.card_read("A19000123B") == []  # a looping demo video: no endless guestbooks


def test_another_card_or_a_tap_ends_the_while(flow: Flow, clock: Clock) -> None:
    flow.checkin_succeeded(submitted(flow).journey, CRED)
    flow.cancel()
    flow.touch()
    assert any(isinstance(c, Lookup) for c in flow.card_read("A19000123B"))
    flow.cancel()  # ignored while looking up: time out into the offline guestbook, then leave
    clock.advance(TIMEOUTS.lookup)
    flow.tick()
    flow.cancel()
    assert flow.card_read("A19000123B") == []
    assert any(isinstance(c, Lookup) for c in flow.card_read("A19000124B"))  # another card
    clock.advance(TIMEOUTS.lookup)
    flow.tick()
    flow.cancel()
    flow.touch()
    assert any(isinstance(c, Lookup) for c in flow.card_read("A19000123B"))


def test_a_typed_number_is_never_ignored(flow: Flow) -> None:
    flow.keypad_open()
    for key in "19000123":
        flow.keypad_press(key)
    journey = flow.keypad_submit()[0].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=None)
    flow.cancel()
    flow.keypad_open()
    for key in "19000123":
        flow.keypad_press(key)
    assert isinstance(flow.keypad_submit()[0], Lookup)


# ------------------------------------------------------------- a typo


def test_member_not_found_after_typing_goes_back_to_the_keypad_with_the_number(
    flow: Flow,
) -> None:
    flow.keypad_open()
    for key in "19000132":
        flow.keypad_press(key)
    lookup = flow.keypad_submit()[0]
    assert isinstance(lookup, Lookup)
    flow.lookup_failed(lookup.journey, "member_not_found")
    assert flow.view.notice is Notice.member_not_found
    assert flow.view.keypad_text == "19000132"
    flow.keypad_retry()
    assert flow.state is State.keypad and flow.view.keypad_text == "19000132"
    flow.keypad_press("back")
    flow.keypad_press("3")
    assert isinstance(flow.keypad_submit()[0], Lookup)
    assert flow.view.journey != lookup.journey  # a new journey: the old answer is dropped


def test_a_scanned_card_not_found_offers_no_keypad(flow: Flow) -> None:
    lookup = flow.card_read("A19000999B")[1]
    flow.lookup_failed(lookup.journey, "member_not_found")  # type: ignore[union-attr]
    assert flow.view.keypad_text == ""
    assert flow.keypad_retry() == [] and flow.state is State.notice
