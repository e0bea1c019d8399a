"""The satisfaction survey in the patron session: offered after the thanks or credential screen."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.config import Timeouts
from kiosk.terminal.session.patron_session import Command, Journey, QueueVisit, State
from kiosk.terminal.session.survey import SurveyPolicy, SurveyRun, profile_of, survey_body


class SurveyEntry:
    """Events of the survey screens. Flow provides the attributes declared below; the app
    sets `survey_policy` (None: never asked) and persists it through `on_survey_asked`."""

    survey_policy: SurveyPolicy | None = None
    on_survey_asked: Callable[[SurveyPolicy], None] | None = None
    _survey: SurveyRun | None = None
    _survey_profile: dict[str, str] | None = None
    _survey_who: str = ""

    if TYPE_CHECKING:
        _state: State
        _journey: Journey
        _kiosk_id: str
        _wall_clock: Callable[[], dt.datetime]
        _now: Callable[[], float]
        _deadline: float
        _timeouts: Timeouts

        def _enter(self, state: State) -> None: ...
        def _to_idle(self) -> None: ...

    def _keep_survey_profile(self, answers: dict[str, str], who: str) -> None:
        """Before a journey's answers are cleared: the profile the survey would carry, and
        who the patron is (only to not ask them again too soon)."""
        self._survey_profile = profile_of(answers)
        self._survey_who = who

    def survey_offered(self) -> bool:
        """On thanks or the credential screen: "Bantu kami meningkatkan layanan"."""
        policy = self.survey_policy
        if self._state not in (State.thanks, State.credentials) or policy is None:
            return False
        return self._survey_profile is not None and policy.may_ask(
            self._survey_who, self._wall_clock().date()
        )

    def survey_start(self) -> list[Command]:
        if not self.survey_offered():
            return []
        policy = self.survey_policy
        assert policy is not None
        policy.mark(self._survey_who, self._wall_clock().date())
        if self.on_survey_asked is not None:
            self.on_survey_asked(policy)
        self._survey = SurveyRun(profile=dict(self._survey_profile or {}))
        self._journey.credential = None  # the password leaves the screen with the patron
        self._enter(State.survey)
        return []

    def survey_view(self) -> SurveyRun | None:
        """A copy of the survey under way, for the screen."""
        return copy.deepcopy(self._survey) if self._state is State.survey else None

    def survey_answer(self, score: int) -> list[Command]:
        run = self._survey
        if self._state is not State.survey or run is None or run.done:
            return []
        run.answer(score)
        return self._survey_next()

    def survey_skip(self) -> list[Command]:
        """This element left unanswered: the next one."""
        run = self._survey
        if self._state is not State.survey or run is None or run.done:
            return []
        run.skip()
        return self._survey_next()

    def survey_stop(self) -> list[Command]:
        """Stop at any time: what was answered is sent, the rest left out."""
        run = self._survey
        if self._state is not State.survey or run is None:
            return []
        if run.done:
            self._survey_end()
            return []
        run.stop()
        return self._survey_next()

    def _survey_next(self) -> list[Command]:
        run = self._survey
        assert run is not None
        if not run.done:
            self._enter(State.survey)
            return []
        body = survey_body(
            run,
            client_ref=str(uuid.uuid4()),
            kiosk_id=self._kiosk_id,
            occurred_at=self._wall_clock(),
        )
        if body is None:  # nothing answered: nothing to thank for
            self._survey_end()
            return []
        self._enter(State.survey)  # the "thank you" page, then Welcome as soon as after thanks
        self._deadline = self._now() + self._timeouts.thanks
        return [QueueVisit(self._journey.number, body)]

    def _survey_end(self) -> None:
        self._survey = None
        self._survey_profile = None
        self._survey_who = ""
        self._to_idle()
