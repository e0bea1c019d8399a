"""The satisfaction survey (SKM): one element per page, four large answers in the regulation's
words, skip or stop at any time, then a thank-you."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.terminal.session.survey import ELEMENTS
from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.basics import SecondaryButton


class SurveyAnswer(SecondaryButton):
    """One of the four answers (1 worst .. 4 best) of the element on screen."""

    score = NumericProperty(0)


class SurveyScreen(KioskScreen):
    element = StringProperty("")
    number = NumericProperty(0)
    total = NumericProperty(len(ELEMENTS))
    done = BooleanProperty(False)

    def show(self, view) -> None:
        super().show(view)
        run = App.get_running_app().flow.survey_view()
        if run is None:
            return
        self.done = run.done
        self.element = run.element or ""
        self.number = min(run.index + 1, len(ELEMENTS))
