"""Choice chips: one big tap selects one answer of a guestbook field."""

from __future__ import annotations

from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.stacklayout import StackLayout
from kivy.uix.togglebutton import ToggleButton


class Chip(ToggleButton):
    key = StringProperty("")
    font_px = NumericProperty(28)


class ChoiceChips(StackLayout):
    """`choices` is a list of (key, label); `selected` the chosen key ("" for none)."""

    choices = ListProperty([])
    selected = StringProperty("")
    font_px = NumericProperty(28)
    chip_height = NumericProperty(80)

    __events__ = ("on_choose",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(choices=self._build, font_px=self._build, chip_height=self._build)
        self.bind(selected=self._mark)
        self._build()

    def _build(self, *_args) -> None:
        self.clear_widgets()
        for key, label in self.choices:
            chip = Chip(
                key=key,
                text=label,
                font_px=self.font_px,
                size_hint=(None, None),
                height=self.chip_height,
                allow_no_selection=False,
            )
            chip.texture_update()
            chip.width = max(self.chip_height * 1.4, chip.texture_size[0] + self.font_px * 1.1)
            chip.state = "down" if key == self.selected else "normal"
            chip.bind(on_release=self._chosen)
            self.add_widget(chip)

    def _mark(self, *_args) -> None:
        for chip in self.children:
            chip.state = "down" if chip.key == self.selected else "normal"

    def _chosen(self, chip: Chip) -> None:
        self.selected = chip.key
        self._mark()
        self.dispatch("on_choose", chip.key)

    def on_choose(self, key: str) -> None:
        pass
