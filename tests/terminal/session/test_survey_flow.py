"""The satisfaction survey (SKM) in the patron session: offered after thanks or the credential,
once per patron per [skm] ask_every_days, nine elements, skip or stop at any time, and an
anonymous body for the outbox."""

from __future__ import annotations

import datetime as dt

from kiosk import protocol
from kiosk.config import Settings, Timeouts
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import Credential, Lookup, QueueVisit, State
from kiosk.terminal.session.survey import SurveyPolicy, patron_key

TIMEOUTS = Timeouts(
    lookup=8, guestbook=90, checkin=12, credentials=60, thanks=8, notice=10, keypad=45
)
ANSWERS = {"purpose": "membaca", "occupation": "pelajar", "education": "sma"}
CRED = Credential("pk7m3x", "Hq4tZ8wa", dt.datetime(2026, 12, 2, tzinfo=dt.UTC), reused=False)


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_flow(clock: Clock, policy: SurveyPolicy | None, day: int = 1) -> Flow:
    flow = Flow(
        Settings().guestbook.fields,
        TIMEOUTS,
        "kiosk-test",
        now=clock,
        wall_clock=lambda: dt.datetime(2026, 12, day, 9, 30, tzinfo=dt.UTC),
    )
    flow.survey_policy = policy
    return flow


def visit(flow: Flow, card: str = "19000123", credential: Credential | None = None) -> None:
    flow.touch()  # someone at Welcome: the same card counts again
    lookup = next(c for c in flow.card_read(card) if isinstance(c, Lookup))
    flow.lookup_succeeded(lookup.journey, name="Siti", status="active", last_answers=ANSWERS)
    flow.set_want_internet(credential is not None)
    checkin = flow.submit()[0]
    flow.checkin_succeeded(checkin.journey, credential)


def test_all_nine_answers_go_to_the_outbox_without_who_answered() -> None:
    clock = Clock()
    flow = make_flow(clock, SurveyPolicy(salt="s" * 16))
    visit(flow, credential=CRED)
    assert flow.state is State.credentials and flow.survey_offered()
    flow.survey_start()
    assert flow.state is State.survey
    assert flow.view.credential is None  # the password left the screen
    commands = []
    for score in (1, 2, 3, 4, 4, 3, 2, 1, 4):
        commands += flow.survey_answer(score)
    [queued] = commands
    assert isinstance(queued, QueueVisit)
    body = queued.body
    assert isinstance(body, protocol.SatisfactionRequest)
    assert body.answers == {f"u{n}": s for n, s in enumerate((1, 2, 3, 4, 4, 3, 2, 1, 4), 1)}
    assert body.profile == {"occupation": "pelajar", "education": "sma"}
    assert "19000123" not in body.model_dump_json() and "Siti" not in body.model_dump_json()
    run = flow.survey_view()
    assert run is not None and run.done  # the thank-you page
    flow.survey_stop()
    assert flow.state is State.idle


def test_skip_leaves_an_element_out_and_stop_sends_what_was_answered() -> None:
    flow = make_flow(Clock(), SurveyPolicy(salt="s" * 16))
    visit(flow)
    assert flow.state is State.thanks
    flow.survey_start()
    assert flow.survey_answer(3) == []
    assert flow.survey_skip() == []
    assert flow.survey_answer(4) == []
    [queued] = flow.survey_stop()
    assert isinstance(queued.body, protocol.SatisfactionRequest)
    assert queued.body.answers == {"u1": 3, "u3": 4}


def test_stopping_before_any_answer_sends_nothing() -> None:
    flow = make_flow(Clock(), SurveyPolicy(salt="s" * 16))
    visit(flow)
    flow.survey_start()
    assert flow.survey_stop() == []
    assert flow.state is State.idle


def test_a_patron_is_asked_once_per_ask_every_days_and_never_when_off() -> None:
    policy = SurveyPolicy(every_days=90, salt="s" * 16)
    flow = make_flow(Clock(), policy, day=1)
    visit(flow)
    flow.survey_start()
    flow.survey_stop()
    assert list(policy.asked) == [patron_key("19000123", "s" * 16)]
    assert "19000123" not in str(policy.asked)
    visit(flow)
    assert flow.state is State.thanks and not flow.survey_offered()
    assert flow.survey_start() == [] and flow.state is State.thanks
    visit(make_flow(Clock(), policy), card="19000124")  # another patron is asked
    assert policy.may_ask("19000124", dt.date(2026, 12, 1))
    assert policy.may_ask("19000123", dt.date(2027, 3, 1))  # 90 days later
    off = make_flow(Clock(), SurveyPolicy(enabled=False))
    visit(off)
    assert not off.survey_offered()
    never = make_flow(Clock(), None)
    visit(never)
    assert not never.survey_offered()


def test_a_survey_left_alone_times_out_and_the_next_patron_starts_clean() -> None:
    clock = Clock()
    flow = make_flow(clock, SurveyPolicy(salt="s" * 16))
    visit(flow)
    flow.survey_start()
    flow.survey_answer(2)
    clock.t += TIMEOUTS.guestbook + 1
    assert flow.tick() == []  # an unfinished survey is dropped, not sent
    assert flow.state is State.idle and flow.survey_view() is None
    assert not flow.survey_offered()
