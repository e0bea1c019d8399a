"""A count stepper: the number large, with -10, -1, +1 and +10 keys (a group's size)."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.terminal.ui.theme import INK, hex_colour
from kiosk.terminal.ui.widgets.keypads import KeyButton

STEPS = (-10, -1, 1, 10)


class CountStepper(BoxLayout):
    """Dispatches on_new_count with the new count, kept within minimum..maximum."""

    count = NumericProperty(0)
    minimum = NumericProperty(0)
    maximum = NumericProperty(500)
    font_px = NumericProperty(40)
    unit = StringProperty("")  # "orang" / "people", after the number

    __events__ = ("on_new_count",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="horizontal", **kwargs)
        self.buttons: dict[int, KeyButton] = {}
        self.shown = Label(bold=True, color=hex_colour(INK), size_hint_x=2.2)
        for step in STEPS:
            if step == 1:
                self.add_widget(self.shown)
            button = KeyButton(key=str(step), text=f"{step:+d}".replace("-", "\u2212"))
            button.bind(on_release=lambda b, s=step: self._step(s))
            self.buttons[step] = button
            self.add_widget(button)
        self.bind(count=self._redraw, unit=self._redraw, font_px=self._redraw)
        self.bind(minimum=self._redraw, maximum=self._redraw)
        self._redraw()

    def _step(self, step: int) -> None:
        count = int(max(self.minimum, min(self.maximum, self.count + step)))
        if count != self.count:
            self.dispatch("on_new_count", count)

    def _redraw(self, *_args: Any) -> None:
        self.shown.text = f"{int(self.count)} {self.unit}".strip()
        self.shown.font_size = self.font_px
        for step, button in self.buttons.items():
            button.font_px = self.font_px * 0.8
            reachable = self.minimum <= self.count + (1 if step > 0 else -1) <= self.maximum
            button.disabled = not reachable

    def on_new_count(self, count: int) -> None:
        pass
