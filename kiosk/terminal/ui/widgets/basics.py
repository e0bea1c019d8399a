"""The building blocks the .kv files style: buttons, banners and panels with colour
properties (declared here so canvas rules see real colours from the first frame)."""

from __future__ import annotations

from kivy.clock import Clock, ClockEvent
from kivy.input.motionevent import MotionEvent
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.terminal.ui.theme import ON_PRIMARY, PRIMARY, WARNING_BG, hex_colour


class FlatButton(Button):
    bg = ColorProperty(hex_colour(PRIMARY))
    fg = ColorProperty(hex_colour(ON_PRIMARY))
    border_colour = ColorProperty((0, 0, 0, 0))
    font_px = NumericProperty(34)


class PrimaryButton(FlatButton):
    pass


class SecondaryButton(FlatButton):
    pass


class Banner(Label):
    bg = ColorProperty(hex_colour(WARNING_BG))


class FitLabel(Label):
    """A label that takes a smaller type size rather than cutting its text: at most
    `max_lines` lines at `largest` px or less, never under `smallest` (the library's name in
    the top bar, whose room depends on the language button beside it)."""

    largest = NumericProperty(40)
    smallest = NumericProperty(16)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._fit_trigger = Clock.create_trigger(self._fit)
        for name in ("text", "size", "largest", "smallest", "max_lines"):
            self.bind(**{name: self._fit_trigger})

    def _fit(self, *_args: object) -> None:
        from kivy.core.text import Label as CoreLabel

        if not self.text or self.width <= 1 or self.height <= 1:
            return
        lines = max(1, int(self.max_lines or 1))
        size = float(self.largest)
        while size > self.smallest:
            probe = CoreLabel(
                text=self.text, font_size=size, bold=self.bold, text_size=(self.width, None)
            )
            probe.refresh()
            if len(probe._cached_lines) <= lines and probe.content_height <= self.height:
                break
            size *= 0.94
        self.font_size = max(size, float(self.smallest))


class MessageLayout(BoxLayout):
    band = ColorProperty(hex_colour(PRIMARY))
    title = StringProperty("")
    body = StringProperty("")
    footer = StringProperty("")
    button = StringProperty("")
    action = StringProperty("cancel")  # the flow event the button sends
    second = StringProperty("")  # a second way on: "Bukan anggota?" (the guest choice)
    second_action = StringProperty("open_guest_form")  # the app method the second calls


class InternetSwitch(BoxLayout):
    """Internet for this visit, as the guestbook and the guest form show it: the state in words
    and colour, and one button that says what it will do (not a tick on words that read like an
    answer). `on_switch(wanted)` when tapped; `shown` False takes it off the screen."""

    shown = BooleanProperty(True)
    wanted = BooleanProperty(False)
    purpose_internet = BooleanProperty(False)  # "Internet" chosen as the purpose while off

    __events__ = ("on_switch",)

    def on_switch(self, wanted: bool) -> None:
        pass


class HoldArea(Widget):
    """The hidden staff gesture: a press held here for `seconds` calls `on_hold`; a shorter
    press (a patron's tap) does nothing."""

    seconds = NumericProperty(3.0)

    __events__ = ("on_hold",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._timer: ClockEvent | None = None

    def on_touch_down(self, touch: MotionEvent) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._timer = Clock.schedule_once(lambda _dt: self.dispatch("on_hold"), self.seconds)
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return True

    def on_hold(self) -> None:
        pass
