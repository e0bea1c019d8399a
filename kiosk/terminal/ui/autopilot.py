"""The demo autopilot: plays a patron at the kiosk, tapping what a finger would, with a patron's
reading pauses, and saves a screenshot of every screen it passes."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

log = logging.getLogger("kiosk.autopilot")

DEMO_MEMBER = "19000123"
DEMO_BIRTH_DATE = "17082004"  # DEMO_MEMBER's, DDMMYYYY as the date pad takes it

# Seconds a patron spends on each step (reading, finding the button): the journey
# benchmark reports time with these pauses included.
PAUSE = {
    "guestbook_read": 4.0,
    "answer": 1.5,
    "credentials_read": 6.0,
    "keypad_digit": 0.4,
    "notice_read": 4.0,
    "no_camera": 3.0,
    # A non-member: each key of the name keyboard (a new user hunting for letters on an
    # unfamiliar keyboard).
    "name_key": 0.6,
}


class Autopilot:
    def __init__(
        self,
        app: Any,
        *,
        screenshots: Path | None = None,
        journeys: int = 1,
        exit_when_done: bool = True,
        pause_scale: float = 1.0,
        use_keypad: bool = False,
        switch_language: bool = True,
        guest: tuple[str, str] | None = None,
    ) -> None:
        self.app = app
        self.screenshots = Path(screenshots) if screenshots else None
        self.journeys = journeys
        self.exit_when_done = exit_when_done
        self.pause_scale = pause_scale
        self.use_keypad = use_keypad
        self.member = DEMO_MEMBER  # the number typed on the keypad path
        self.birth_date = DEMO_BIRTH_DATE  # the member's, typed on the date pad
        self.switch_language = switch_language  # every second patron reads English
        self.guest = guest  # (name, institution): play a non-member on the guest form
        self.done = 0
        self.tap_times: list[float] = []  # monotonic time of every tap
        self._seen: set[str] = set()
        self._shot = 0
        self._plan: Any = None
        self._screen = ""

    def install(self) -> None:
        self.app.bind(on_start=lambda *_: self._started())

    def _started(self) -> None:
        if self.screenshots is not None:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            for old in self.screenshots.glob("*.png"):
                old.unlink()
        self.app.manager.bind(current=lambda *_: self._screen_changed())
        self._screen_changed()

    # ------------------------------------------------------------ steps

    def _later(self, key: str, action: Any) -> None:
        if self._plan is not None:
            self._plan.cancel()
        self._plan = Clock.schedule_once(lambda _dt: action(), PAUSE[key] * self.pause_scale)

    def tap(self, widget: Any) -> None:
        self.tap_times.append(time.monotonic())
        widget.trigger_action(duration=0.05)

    def _screen_changed(self) -> None:
        name = self.app.manager.current
        if name == self._screen:
            return
        self._screen = name
        if self._plan is not None:
            self._plan.cancel()
            self._plan = None
        # The very first frame needs longer: the window and the camera are still starting.
        Clock.schedule_once(lambda _dt: self._screenshot(name), 0.5 if self._shot else 2.0)
        screen = self.app.screens[name]
        if name == "guestbook":
            self._later("guestbook_read", lambda: self._fill_guestbook(screen))
        elif name == "credentials":
            self._later("credentials_read", lambda: self._finish(screen))
        elif name in ("thanks", "notice"):
            self._later("notice_read", lambda: self._finish(screen))
        elif name == "welcome" and self.guest is not None:
            self._later("no_camera", self._not_a_member)
        elif name == "guest":
            self._later("guestbook_read", lambda: self._next_guest_tap(self._guest_taps(screen)))
        elif name == "welcome" and (self.use_keypad or self.app.services.scanner is None):
            self._later("no_camera", self._use_keypad)
        elif name == "keypad":
            self._type_digits("keypad", self.member)
        elif name == "birth_date":
            self._type_digits("birth_date", self.birth_date)

    def _use_keypad(self) -> None:
        welcome = self.app.screens["welcome"]
        button = _find(welcome, lambda w: getattr(w, "text", "") == self.app.tr("welcome.keypad"))
        if button is not None and self.app.manager.current == "welcome":
            self.tap(button)  # typing starts when the keypad screen shows

    def _not_a_member(self) -> None:
        welcome = self.app.screens["welcome"]
        if self.app.manager.current != "welcome":
            return
        self.tap(welcome.ids.not_member)  # the guest form opens: "guest" below plays it

    def _guest_taps(self, screen: Any) -> Any:
        """The guest form tap by tap, each with its pause: the name and the institution key
        by key (shift where the case differs), Lanjut, the first choice of each field, Kirim."""
        assert self.guest is not None
        keyboard = screen.who.ids.keyboard
        for text in (self.guest[0], None, self.guest[1]):
            if text is None:
                yield screen.who.ids.institution_box.ids.box, "answer"
                continue
            for ch in text:
                entry = self.app.flow.view.guest
                if ch.isalpha() and entry is not None and ch.isupper() != entry.shift:
                    yield keyboard.keys["shift"], "name_key"
                yield keyboard.keys["space" if ch == " " else ch.lower()], "name_key"
        yield screen.ids.submit, "guestbook_read"  # Lanjut: the questions page
        for key in list(screen._rows):
            yield screen._rows[key].ids.chips.children[-1], "answer"
        yield screen.ids.submit, "answer"  # Kirim

    def _next_guest_tap(self, taps: Any) -> None:
        if self.app.manager.current != "guest":
            return  # sent, timed out or left
        step = next(taps, None)
        if step is None:
            return
        widget, pause = step
        self.tap(widget)
        self._later(pause, lambda: self._next_guest_tap(taps))

    def _type_digits(self, name: str, text: str) -> None:
        """The member number on the keypad, or the birth date on the date pad, then Lanjut."""
        keypad = self.app.screens[name]
        digits = list(text)

        def next_digit(_dt: float) -> None:
            if self.app.manager.current != name:
                return  # the pad timed out or was left: this attempt is over
            if not digits:
                self.tap(keypad.ids.ok)
                return
            key = digits.pop(0)
            pad_key = _find(keypad.pad, lambda w: getattr(w, "key", None) == key)
            if pad_key is not None:
                self.tap(pad_key)
            Clock.schedule_once(next_digit, PAUSE["keypad_digit"] * self.pause_scale)

        Clock.schedule_once(next_digit, PAUSE["keypad_digit"] * self.pause_scale)

    def _fill_guestbook(self, screen: Any) -> None:
        if self.switch_language and self.done % 2 == 1 and self.app.language == "id":
            # Every second patron reads English: the toggle is on every patron screen.
            toggle = _find(
                self.app.root.ids.topbar,
                lambda w: getattr(w, "text", None) == self.app.tr("language.switch"),
            )
            if toggle is not None:
                self.tap(toggle)
                Clock.schedule_once(lambda _dt: self._screenshot("guestbook"), 0.5)
                self._later("answer", lambda: self._fill_guestbook(screen))
                return
        view = self.app.flow.view
        missing = [
            f
            for f in screen.fields
            if f.required and f.kind == "choice" and f.key not in view.answers
        ]
        if missing:
            row = screen._rows[missing[0].key]
            chip = row.ids.chips.children[-1]  # the first choice, as drawn
            self.tap(chip)
            self._later("answer", lambda: self._fill_guestbook(screen))
            return
        self.tap(screen.ids.submit)

    def _finish(self, screen: Any) -> None:
        if self.app.manager.current != screen.name:
            return  # the screen timed out meanwhile
        button = _find(
            screen,
            lambda w: (
                getattr(w, "text", "") in (self.app.tr("common.done"), self.app.tr("notice.ok"))
            ),
        )
        if button is not None:
            self.tap(button)
        if screen.name == "notice":
            log.info("autopilot: a notice (%s), trying again", self.app.flow.view.notice)
            return
        self.done += 1
        log.info("autopilot: journey %d of %d done", self.done, self.journeys)
        if self.done >= self.journeys and self.exit_when_done:
            Clock.schedule_once(lambda _dt: self.app.stop(), 1.0)

    def _screenshot(self, name: str) -> None:
        if self.screenshots is None:
            return
        key = f"{name}-{self.app.language}"
        if key in self._seen:
            return
        self._seen.add(key)
        self._shot += 1
        taken = Window.screenshot(name=str(self.screenshots / f"{self._shot:02d}-{key}.png"))
        if taken:
            final = self.screenshots / f"{self._shot:02d}-{key}.png"
            Path(taken).replace(final)
            log.info("screenshot %s", final)


def _find(root: Any, match: Any) -> Any:
    for widget in root.walk(restrict=True):
        if match(widget):
            return widget
    return None
