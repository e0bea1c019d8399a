"""The date pad: a typed member number's birth date, for internet, as DD-MM-YYYY filling in."""

from __future__ import annotations

from kivy.app import App

from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.keypads import NumberPad  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.still_there import TimeoutWatch


def date_shown(digits: str, placeholder: str) -> str:
    """The typed digits over the placeholder: "1708" + "__-__-____" -> "17-08-____" (no letter
    beside a digit: "0B" read as "08")."""
    typed = iter(digits)
    return "".join(c if c == "-" else next(typed, c) for c in placeholder)


class BirthDateScreen(KioskScreen):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.still_there = TimeoutWatch(lambda app: app.settings.kiosk.timeouts.keypad)

    def shown_text(self, language: str) -> str:
        app = App.get_running_app()
        digits = self.view.birth_date_text if self.view else ""
        return date_shown(digits, str(app.tr("birth_date.placeholder", language)))

    def error_text(self, language: str) -> str:
        why = self.view.date_error if self.view else ""
        return str(App.get_running_app().tr(f"birth_date.{why}", language)) if why else ""

    def on_enter(self, *args) -> None:
        self.still_there.start()

    def on_leave(self, *args) -> None:
        self.still_there.stop()
