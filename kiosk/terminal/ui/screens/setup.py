"""The setup screen: a kiosk without access types the enrollment code from the console."""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.terminal.access import EnrollmentRefused
from kiosk.terminal.ui.widgets.keypads import ADDRESS_KEYS, CODE_KEYS, CharacterPad  # noqa: F401

log = logging.getLogger("kiosk.ui")
CODE_LENGTH = 8
MAX_ADDRESS = 200


class SetupScreen(Screen):
    code = StringProperty("")
    address = StringProperty("")
    editing = StringProperty("code")  # which field the pad types into: code | address
    error = StringProperty("")  # EnrollmentRefused.reason, "" when none
    error_detail = StringProperty("")
    busy = BooleanProperty(False)

    _watch: Any = None

    def on_enter(self, *_args: Any) -> None:
        # `kiosk enroll` on the command line while this screen shows: take its access.
        self._watch = Clock.schedule_interval(self._look_for_access, 1.0)

    def on_leave(self, *_args: Any) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def _look_for_access(self, _dt: float) -> None:
        app = App.get_running_app()
        if self.busy or app.access is None:
            return
        settings = app.access.picked_up()
        if settings is not None:
            log.info("access.json found: enrolled from the command line")
            app.enrolled(settings)

    def prepare(self, address: str) -> None:
        self.address, self.code, self.editing = address, "", "code"
        self.error, self.error_detail, self.busy = "", "", False

    def shown_code(self, code: str) -> str:
        """What is typed, the rest as blanks, in the console's two groups: "K7Q_-____"."""
        padded = code + "_" * (CODE_LENGTH - len(code))
        return f"{padded[:4]}-{padded[4:]}"

    def edit(self, field: str) -> None:
        self.editing = field

    def press(self, key: str) -> None:
        if self.busy:
            return
        self.error = ""
        text = self.code if self.editing == "code" else self.address
        if key == "back":
            text = text[:-1]
        elif self.editing == "code" and len(text) < CODE_LENGTH:
            text += key
        elif self.editing == "address" and len(text) < MAX_ADDRESS:
            text += key
        if self.editing == "code":
            self.code = text
        else:
            self.address = text

    def error_text(self, language: str) -> str:
        if not self.error:
            return ""
        app = App.get_running_app()
        key = f"setup.error.{self.error}"
        return str(app.tr(key, language, address=self.address, detail=self.error_detail))

    def submit(self) -> None:
        """Enroll in the staff thread (the backend may be slow); nothing changes on refusal."""
        if self.busy or len(self.code) != CODE_LENGTH:
            return
        app = App.get_running_app()
        self.busy, self.error = True, ""
        address, code = self.address, self.code

        def work() -> None:
            try:
                settings: Any = app.access.enroll(address, code)
            except EnrollmentRefused as exc:
                log.info("enrollment refused: %s", exc.reason)
                refused = exc
                Clock.schedule_once(lambda _dt: self._refused(refused), 0)
                return
            Clock.schedule_once(lambda _dt: self._enrolled(settings), 0)

        app.staff_pool.submit(work)

    def _refused(self, exc: EnrollmentRefused) -> None:
        self.busy = False
        self.error, self.error_detail = exc.reason, str(exc)

    def _enrolled(self, settings: Any) -> None:
        self.busy = False
        self.code = ""
        App.get_running_app().enrolled(settings)
