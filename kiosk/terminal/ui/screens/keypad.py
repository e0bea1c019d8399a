"""Typing the member number on a large on-screen number pad, with how a number looks."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty

from kiosk.cards import CardReader, number_shape
from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.keypads import NumberPad  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.still_there import TimeoutWatch


class KeypadScreen(KioskScreen):
    # The typed text can be a member number of this library ([cards] pattern): only then
    # is "Lanjut" enabled.
    can_match = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.still_there = TimeoutWatch(lambda app: app.settings.kiosk.timeouts.keypad)

    def show(self, view) -> None:
        super().show(view)
        app = App.get_running_app()
        reader = CardReader(app.settings.cards.pattern)
        self.can_match = bool(view.keypad_text) and reader.is_member_card(view.keypad_text)

    def shape_text(self, language: str) -> str:
        """ "Nomor anggota: 8 angka, mulai 19", from [cards] pattern ("" if it cannot say)."""
        app = App.get_running_app()
        shape = number_shape(app.settings.cards.pattern)
        if shape is None:
            return ""
        if shape.shortest == shape.longest:
            digits = app.tr("keypad.shape_digits", language, count=shape.shortest)
        else:
            digits = app.tr(
                "keypad.shape_range", language, shortest=shape.shortest, longest=shape.longest
            )
        if shape.prefix:
            digits = app.tr("keypad.shape_prefix", language, digits=digits, prefix=shape.prefix)
        return str(app.tr("keypad.shape", language, shape=digits))

    def on_enter(self, *args) -> None:
        self.still_there.start()

    def on_leave(self, *args) -> None:
        self.still_there.stop()
