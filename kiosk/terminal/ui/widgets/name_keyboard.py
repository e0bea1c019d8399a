"""The on-screen keyboard for names: lower and upper case (shift), the letters Indonesian
names carry, digits, space, apostrophe, hyphen and delete, in large keys."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.terminal.session.guest_entry import DIGITS, EXTRA_LETTERS, KEY_ROWS
from kiosk.terminal.ui.widgets.keypads import KeyButton

# The rows as drawn: the extra letters on top (far from "a", where a hurried finger lands
# near the space bar), digits, three letter rows (the apostrophe beside "l", shift and the
# hyphen around the last one, delete at its end), then caps lock, the space bar and "next"
# (letter rows no wider than before, so every letter key stays 15 mm).
ROWS: tuple[tuple[str, ...], ...] = (
    (*EXTRA_LETTERS, "."),
    tuple(DIGITS),
    tuple(KEY_ROWS[0]),
    (*KEY_ROWS[1], "'"),
    ("shift", *KEY_ROWS[2], "-", "back"),
    ("caps", "space", "next"),
)
# How wide a key is beside a letter key.
WIDTH = {"shift": 1.7, "caps": 1.2, "back": 1.7, "space": 2.4, "next": 1.2}
WORD_KEYS = ("shift", "caps", "back", "space", "next")


class NameKeyboard(BoxLayout):
    """Dispatches on_key with a letter (lower case: the entry applies shift), a sign, or
    "shift", "back", "space", "next"; `shift` or `caps` shows the letters in upper case."""

    shift = BooleanProperty(True)
    caps = BooleanProperty(False)  # caps lock: its key is lit
    font_px = NumericProperty(34)
    word_px = NumericProperty(27)  # "Huruf besar", "Hapus", "spasi": 24 px or more at 1080p
    key_spacing = NumericProperty(8)
    shift_label = StringProperty("Shift")
    caps_label = StringProperty("CAPS")
    next_label = StringProperty("Next")
    space_label = StringProperty("space")
    back_label = StringProperty("Del")

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="vertical", **kwargs)
        self.keys: dict[str, KeyButton] = {}
        self._lines: list[BoxLayout] = []
        for row in ROWS:
            line = BoxLayout(spacing=self.key_spacing)
            if row == ("space",):
                line.padding = (0, 0, 0, 0)
            for key in row:
                button = KeyButton(key=key, font_px=self.font_px)
                button.size_hint_x = WIDTH.get(key, 1.0)
                if key in WORD_KEYS:  # a word wraps inside its key rather than spill out
                    button.halign = "center"
                    button.bind(width=lambda b, w: setattr(b, "text_size", (w - 10, None)))
                button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
                line.add_widget(button)
                self.keys[key] = button
            self._lines.append(line)
            self.add_widget(line)
        self.bind(
            shift=self._relabel,
            caps=self._relabel,
            shift_label=self._relabel,
            caps_label=self._relabel,
            next_label=self._relabel,
            space_label=self._relabel,
            back_label=self._relabel,
            font_px=self._restyle,
            word_px=self._restyle,
            key_spacing=self._restyle,
        )
        self._relabel()

    def _relabel(self, *_args: Any) -> None:
        names = {
            "shift": self.shift_label,
            "caps": self.caps_label,
            "space": self.space_label,
            "back": self.back_label,
            "next": self.next_label,
        }
        for key, button in self.keys.items():
            if key in names:
                button.text = names[key]
            else:
                button.text = key.upper() if self.shift or self.caps else key
        self.keys["shift"].primary = self.shift
        self.keys["caps"].primary = self.caps
        self.keys["next"].primary = True

    def _restyle(self, *_args: Any) -> None:
        self.spacing = self.key_spacing
        for line in self._lines:
            line.spacing = self.key_spacing
        for key, button in self.keys.items():
            button.font_px = self.word_px if key in WORD_KEYS else self.font_px

    def on_key(self, key: str) -> None:
        pass
