"""The "still there?" warning before a patron's screen clears itself (WCAG 2.2.1): one large
tap continues, as often as the patron needs."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

# How often the time left is looked at while a patron works: often enough that the countdown
# on the warning moves every second, cheap enough to be nothing on the UI thread.
POLL_SECONDS = 0.2


def warning_lead(warning: float, timeout: float) -> float:
    """Seconds before the timeout at which to warn: the configured lead, but never more than
    four fifths of the timeout (a 20 s screen would otherwise open with its warning)."""
    return min(warning, timeout * 0.8)


class StillThere(ModalView):
    """The warning itself: a countdown and one button, "Ya, lanjutkan"."""

    seconds = NumericProperty(0)

    def keep_going(self) -> None:
        app = App.get_running_app()
        app.act(app.flow.touch)

    def on_touch_down(self, touch: Any) -> bool:
        # A touch anywhere, a key under the dark overlay too, is the patron still here: the
        # warning goes and what they typed stays (a slow typist who looked away).
        self.keep_going()
        return bool(super().on_touch_down(touch))


class TimeoutWatch:
    """Watches the flow's time left while a screen where the patron is still working
    shows, and opens or closes the warning."""

    def __init__(self, timeout_of: Any) -> None:
        # timeout_of(app) -> the screen's timeout in seconds, read each time (config reload).
        self._timeout_of = timeout_of
        self._event: ClockEvent | None = None
        self.popup: StillThere | None = None
        self.shown = 0  # times the warning opened on this screen (tests, logs)

    def start(self) -> None:
        self.stop()
        self._event = Clock.schedule_interval(self._poll, POLL_SECONDS)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._close()

    def _poll(self, _dt: float) -> None:
        app = App.get_running_app()
        if app is None or app.flow.state.value not in ("guestbook", "keypad", "guest"):
            self._close()
            return
        left = app.flow.seconds_left()
        lead = warning_lead(app.settings.kiosk.timeouts.warning, self._timeout_of(app))
        if left > lead:
            self._close()
            return
        if self.popup is None:
            self.popup = StillThere()
            self.popup.open(animation=False)
            self.shown += 1
        self.popup.seconds = int(left + 0.999)

    def _close(self) -> None:
        if self.popup is not None:
            self.popup.dismiss(animation=False)
            self.popup = None
