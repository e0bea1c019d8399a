"""On-screen keypads: Kivy has no numeric VKeyboard layout, so we build our own, large."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout


class KeyButton(Button):
    """One key: a big, flat, rounded button."""

    key = StringProperty("")
    primary = BooleanProperty(False)
    font_px = NumericProperty(40)


class NumberPad(GridLayout):
    """Digits 0-9 with delete; dispatches on_key with "0".."9" or "back"."""

    masked = BooleanProperty(False)
    font_px = NumericProperty(44)
    back_label = StringProperty("Del")

    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        super().__init__(cols=3, **kwargs)
        self._build()
        self.bind(font_px=self._restyle, back_label=self._relabel)

    def _build(self) -> None:
        self.clear_widgets()
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "back"]:
            if not key:
                self.add_widget(KeyButton(disabled=True, opacity=0))
                continue
            button = KeyButton(
                key=key,
                text=self.back_label if key == "back" else key,
                font_px=self.font_px,
            )
            button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
            self.add_widget(button)

    def _restyle(self, *_args) -> None:
        for child in self.children:
            child.font_px = self.font_px

    def _relabel(self, *_args) -> None:
        for child in self.children:
            if getattr(child, "key", "") == "back":
                child.text = self.back_label

    def on_key(self, key: str) -> None:
        pass


TEXT_ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM.,/"]


class TextKeyboard(GridLayout):
    """Letters, digits and a few signs for short guestbook text (an institution's name)."""

    font_px = NumericProperty(34)
    space_label = StringProperty("space")
    done_label = StringProperty("OK")
    back_label = StringProperty("Del")

    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        super().__init__(cols=1, **kwargs)
        from kivy.uix.boxlayout import BoxLayout

        self._lines: list[BoxLayout] = []
        for row in [*TEXT_ROWS, "special"]:
            line = BoxLayout(spacing=8)
            keys = ["back", "space", "done"] if row == "special" else list(row)
            for key in keys:
                button = KeyButton(key=key, font_px=self.font_px, primary=key == "done")
                button.size_hint_x = 3 if key == "space" else (2 if key != key[:1] else 1)
                button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
                line.add_widget(button)
            self._lines.append(line)
            self.add_widget(line)
        self.bind(
            font_px=self._restyle,
            space_label=self._relabel,
            done_label=self._relabel,
            back_label=self._relabel,
        )
        self._relabel()

    def _relabel(self, *_args) -> None:
        names = {"back": self.back_label, "space": self.space_label, "done": self.done_label}
        for line in self._lines:
            for button in line.children:
                button.text = names.get(button.key, button.key)

    def _restyle(self, *_args) -> None:
        for line in self._lines:
            for button in line.children:
                button.font_px = self.font_px

    def on_key(self, key: str) -> None:
        pass


# The enrollment code's letters and digits (no 0/O, 1/I/L: kiosk.backend.enrollment's).
CODE_KEYS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ADDRESS_KEYS = "1234567890.:/-abcdefghijklmnopqrstuvwxyz"


class CharacterPad(GridLayout):
    """Big keys for `keys`, then delete; dispatches on_key with a character or "back"."""

    keys = StringProperty(CODE_KEYS)
    font_px = NumericProperty(40)
    back_label = StringProperty("Del")

    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        kwargs.setdefault("cols", 8)
        super().__init__(**kwargs)
        self._build()
        self.bind(keys=self._build, font_px=self._restyle, back_label=self._restyle)

    def _restyle(self, *_args) -> None:
        for button in self.children:
            back = button.key == "back"
            button.font_px = self.font_px * (0.6 if back else 1)
            if back:
                button.text = self.back_label

    def _build(self, *_args) -> None:
        self.clear_widgets()
        for key in [*self.keys, "back"]:
            back = key == "back"  # a word on a letter-sized key: smaller type
            button = KeyButton(
                key=key,
                text=self.back_label if back else key,
                font_px=self.font_px * (0.6 if back else 1),
            )
            button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
            self.add_widget(button)

    def on_key(self, key: str) -> None:
        pass
