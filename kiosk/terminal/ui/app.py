"""The kiosk App: window settings, the screens, and the wiring between the flow (core),
the scanner worker and the journey runner."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import mm
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.cards import CardReader
from kiosk.config import Settings
from kiosk.terminal.access import AccessKeeper
from kiosk.terminal.journey import JourneyRunner
from kiosk.terminal.services import Services
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import Command, State
from kiosk.terminal.session.survey import SurveyPolicy
from kiosk.terminal.state import survey_policy
from kiosk.terminal.steering import SettingsFollower, SettingsUpdate
from kiosk.terminal.ui import theme
from kiosk.terminal.ui.i18n import LANGUAGES, translate
from kiosk.terminal.ui.kv import load_kv
from kiosk.terminal.ui.screen_map import SCREEN_FOR_STATE, build_screens
from kiosk.terminal.ui.sound import Beeper

log = logging.getLogger("kiosk.ui")
ENLARGED = 1.5  # "Aa": text half as large again (issue 30)
# Screens outside the patron's flow: the flow's changes do not switch away from them.
OFF_FLOW = ("pin", "maintenance", "setup")


class KioskRoot(BoxLayout):
    pass


class KioskApp(App):
    language = StringProperty("id")
    landscape = BooleanProperty(True)
    u = NumericProperty(1.0)  # layout scale: shorter window side / 1080
    # "Aa": every text half as large again for this patron (reset when the session ends).
    text_scale = NumericProperty(1.0)
    t = NumericProperty(1.0)  # type scale: u * text_scale (every font size in the .kv files)
    touch = NumericProperty(88)  # smallest touch target, px (>= 15 mm)
    seconds_left = NumericProperty(0)
    can_submit = BooleanProperty(False)
    staff_screen = BooleanProperty(False)  # the PIN pad or maintenance is showing
    guest_journey = NumericProperty(-1)  # the last journey that was a guest's (thanks words)
    survey_offer = BooleanProperty(False)  # thanks/credentials: "Bantu kami meningkatkan layanan"
    # A property, so every kv rule that shows a setting follows a config reload.
    settings = ObjectProperty(None)
    high_contrast = BooleanProperty(False)  # staff's switch in maintenance (kiosk state)
    palette = DictProperty(theme.palette(False))  # the colours every .kv rule reads

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        reload_settings: Callable[[], Settings] | None = None,
        follower: SettingsFollower | None = None,
        access: AccessKeeper | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.access = access  # None: config.toml's token, no setup screen
        self._reload_settings = reload_settings
        self.follower = follower
        self.exit_code = 0
        self.services = services
        self.title = settings.library.name
        self.language = settings.kiosk.language
        self.flow = self._new_flow(settings)
        self.journeys = JourneyRunner(services, lambda: self.flow, _on_main, self._beep)
        # The staff screens have their own thread, so a backend that hangs for a patron
        # cannot hold them up (nor they the patrons: see kiosk.terminal.journey).
        self.staff_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-staff")
        self._events: list[Any] = []
        self._frame_trigger = Clock.create_trigger(self._show_frame)
        self._last_frame_seq = -1
        self._beeper = Beeper()
        services.bind(self)
        self.frame_ms: list[float] = []  # our own time per preview frame (benchmarks)
        self.journey_log: list[tuple[float, str]] = []  # (monotonic, state): benchmarks, tests

    def _new_flow(self, settings: Settings) -> Flow:
        flow = Flow(
            settings.guestbook.fields,
            settings.kiosk.timeouts,
            settings.kiosk.kiosk_id,
            now=time.monotonic,
            on_change=self._view_changed,
            card_check=CardReader(settings.cards.pattern).is_member_card,
            guest_fields=settings.guests.fields,
            guest_internet=settings.guests.internet == "voucher",
            max_group_size=settings.guests.max_group_size,
        )
        flow.survey_policy = survey_policy(settings, self.services.state)
        flow.on_survey_asked = self._survey_asked
        return flow

    def _survey_asked(self, policy: SurveyPolicy) -> None:
        state = self.services.state
        if state is not None:
            state.update(skm_asked=dict(policy.asked))

    # ------------------------------------------------------------- build

    def build(self) -> KioskRoot:
        import kiosk.terminal.ui.widgets.basics  # noqa: F401  (classes the .kv rules style)

        load_kv(theme.__file__.replace("theme.py", "widgets/widgets.kv"))
        load_kv(__file__)
        Window.clearcolor = theme.hex_colour(theme.PAPER)
        Window.bind(size=self._window_resized, on_request_close=self._refuse_close)
        Window.bind(on_keyboard=self._keyboard)
        self._window_resized(Window, Window.size)

        root = KioskRoot()
        manager: ScreenManager = root.ids.screens
        manager.transition = NoTransition()
        self.screens = build_screens(self.settings)
        for screen in self.screens.values():
            manager.add_widget(screen)
        self.manager = manager
        manager.bind(
            current=lambda _m, name: setattr(self, "staff_screen", name in ("pin", "maintenance"))
        )
        return root

    def on_start(self) -> None:
        services = self.services
        self.language = self.default_language()
        if services.state is not None:
            self.high_contrast = services.state.high_contrast
        if services.state is not None:
            if services.state.out_of_service:
                self.flow.set_out_of_service(True)
        if services.scanner is not None:
            services.scanner.start()
        else:
            self.flow.camera_changed(False)
        if services.sender is not None:
            services.sender.start()
        self._events.append(Clock.schedule_interval(self._tick, 0.25))
        self._view_changed(self.flow.view)
        log.info(
            "kiosk started: kiosk_id=%s language=%s", self.settings.kiosk.kiosk_id, self.language
        )
        self._setup_if_wanted()

    def on_stop(self) -> None:
        for event in self._events:
            event.cancel()
        self._events.clear()
        self._frame_trigger.cancel()
        Window.unbind(size=self._window_resized, on_request_close=self._refuse_close)
        Window.unbind(on_keyboard=self._keyboard)
        services = self.services
        if services.scanner is not None:
            services.scanner.stop()
        if services.sender is not None:
            services.sender.stop()
        self.staff_pool.shutdown(wait=False, cancel_futures=True)
        self.journeys.shutdown()  # an outbox write in progress is finished, not cut
        log.info("kiosk stopped")

    # ----------------------------------------------------- translations

    def tr(self, key: str, language: str | None = None, **values: object) -> str:
        """In kv, pass app.language so the text follows the language toggle."""
        return translate(key, language or self.language, **values)

    def toggle_text_size(self) -> None:
        """The top bar's "Aa": normal text, or half as large again; the screens reflow."""
        self.text_scale = ENLARGED if self.text_scale == 1.0 else 1.0
        self.flow.touch()
        self._view_changed(self.flow.view)

    def on_high_contrast(self, *_args: Any) -> None:
        self.palette = theme.palette(self.high_contrast)
        Window.clearcolor = theme.hex_colour(self.palette["PAPER"])

    def on_text_scale(self, *_args: Any) -> None:
        self.t = self.u * self.text_scale

    def on_u(self, *_args: Any) -> None:
        self.t = self.u * self.text_scale

    def toggle_language(self) -> None:
        self.language = "en" if self.language == "id" else "id"
        self.flow.touch()
        self._view_changed(self.flow.view)

    def local_time(self, moment: dt.datetime, language: str | None = None) -> str:
        """The library's clock time, with the day and the month in words when not today
        ("9 Desember 04:38": "9/12" reads as 12 September in English)."""
        zone = ZoneInfo(self.settings.backend.timezone)
        local = moment.astimezone(zone)
        today = dt.datetime.now(zone).date()
        clock = local.strftime("%H:%M")
        if local.date() == today:
            return clock
        language = language or self.language
        month = self.tr("date.months", language).split()[local.month - 1]
        return f"{self.tr('date.day_month', language, day=local.day, month=month)} {clock}"

    # ------------------------------------------------------------ events

    def act(self, event: Callable[..., list[Command]], *args: Any) -> None:
        """A patron's action from a screen: a flow event method (app.flow.submit, ...), called
        with `args`; the commands it returns run."""
        self.run_commands(event(*args))

    def run_commands(self, commands: list[Command]) -> None:
        self.journeys.run(commands)

    # ------------------------------------------------------------ scanner

    def scanner_event(self, event: Any) -> None:
        """Called from the scanner thread."""
        Clock.schedule_once(lambda _dt: self._scan(event), 0)

    def scanner_frame(self) -> None:
        """Called from the scanner thread when a new frame is ready."""
        self._frame_trigger()

    def _scan(self, event: Any) -> None:
        if self.manager.current == "setup":
            return  # not enrolled: no patron can be served yet
        if self.manager.current in ("pin", "maintenance"):
            # Staff are at the kiosk: a card shown now is a camera test, not a patron.
            if self.manager.current == "maintenance":
                self.screens["maintenance"].scanner_event(event)
            if event.kind in ("camera_lost", "camera_back"):
                self.flow.camera_changed(event.kind == "camera_back")
            return
        if event.kind == "card":
            if self.flow.state in (State.idle, State.notice, State.keypad):
                self.screens["welcome"].camera.show_read(event.points, event.frame_size)
            self.run_commands(self.flow.card_read(event.text))
        elif event.kind == "rejected":
            self.run_commands(self.flow.card_rejected(event.text))
        elif event.kind == "camera_lost":
            log.warning("camera lost")
            self.run_commands(self.flow.camera_changed(False))
        elif event.kind == "camera_back":
            log.info("camera back")
            self.run_commands(self.flow.camera_changed(True))

    def _show_frame(self, _dt: float) -> None:
        scanner = self.services.scanner
        if scanner is None:
            return
        current = self.manager.current
        if current == "welcome":
            view = self.screens["welcome"].camera
        elif current == "maintenance":
            view = self.screens["maintenance"].camera
        else:
            return
        latest = scanner.latest_frame()
        if latest is None:
            return
        frame, seq = latest
        if seq == self._last_frame_seq:
            return
        started = time.perf_counter()
        self._last_frame_seq = seq
        view.show_frame(frame)
        self.frame_ms.append((time.perf_counter() - started) * 1000)
        if len(self.frame_ms) > 2000:
            del self.frame_ms[:1000]

    # --------------------------------------------------------- the screen

    def default_language(self) -> str:
        """The language each patron starts in: staff's choice in maintenance, else config."""
        state = self.services.state
        if state is not None and state.language in LANGUAGES:
            return state.language
        return self.settings.kiosk.language

    def _view_changed(self, view: Any) -> None:
        if view.state is State.idle and self.journey_log and self.journey_log[-1][1] != "idle":
            # A patron's session ended: the next one starts in the default language and size.
            self.language = self.default_language()
            self.text_scale = 1.0
        if view.state is State.guest:
            self.guest_journey = view.journey
        self.journey_log.append((time.monotonic(), view.state.value))
        if len(self.journey_log) > 500:
            del self.journey_log[:250]
        if not hasattr(self, "manager"):
            return
        self.can_submit = self.flow.can_submit()
        self.survey_offer = self.flow.survey_offered()
        self.seconds_left = int(min(self.flow.seconds_left(), 9999))
        if self.manager.current in OFF_FLOW:
            return
        name = SCREEN_FOR_STATE[view.state]
        screen = self.screens[name]
        screen.show(view)
        if self.manager.current != name:
            self.manager.current = name
        scanner = self.services.scanner
        if scanner is not None:
            # Decode only where a card can start something; the preview keeps running.
            scanner.pause_decoding(view.state not in (State.idle, State.notice, State.keypad))

    def _tick(self, _dt: float) -> None:
        self.run_commands(self.flow.tick())
        if self.follower is not None and self._between_patrons():
            update = self.follower.take_update()
            if update is not None:
                self.apply_update(update)
        left = self.flow.seconds_left()
        self.seconds_left = int(left + 0.999) if left != float("inf") else 0
        if self.manager.current in ("pin", "maintenance"):
            self.screens[self.manager.current].tick()
        self._setup_if_wanted()

    # ------------------------------------------------------- enrollment

    def _setup_if_wanted(self) -> None:
        """Not enrolled (or the token was revoked): the setup screen, from Welcome only, so
        a patron's journey always ends first."""
        if self.access is None or not self.access.setup_wanted:
            return
        if self.manager.current != "welcome" or self.flow.state is not State.idle:
            return
        log.info("setup screen: this kiosk needs an enrollment code")
        self.screens["setup"].prepare(self.access.backend_url)
        self.manager.current = "setup"

    def enrolled(self, settings: Settings) -> None:
        """A code was accepted: run as the enrolled kiosk from Welcome, no restart."""
        if self.follower is not None:
            settings = self.follower.rebase(settings)
        self.use_settings(settings)
        self.manager.current = "welcome"
        self.flow.reset()
        self._view_changed(self.flow.view)
        log.info("enrolled: now kiosk %s", settings.kiosk.kiosk_id)

    def _beep(self, kind: str) -> None:
        if self.settings.kiosk.sound and not self._beeper.beep(kind):
            self.settings = self.settings.with_overrides(kiosk={"sound": False})

    # ------------------------------------------------------ staff access

    def open_guest_form(self) -> None:
        """ "Bukan anggota?" (on Welcome or on "card not recognised"): the visitor's form, for
        one person; its "Rombongan" switch makes it a group's."""
        self.act(self.flow.guest_open)

    def open_survey(self) -> None:
        """ "Bantu kami meningkatkan layanan" on thanks or the credential screen."""
        self.act(self.flow.survey_start)

    def open_pin(self) -> None:
        """The hidden gesture was made: ask for the staff PIN."""
        log.info("maintenance requested")
        self.flow.reset()
        self.screens["pin"].reset()
        self.manager.current = "pin"

    def open_maintenance(self) -> None:
        log.info("maintenance opened")
        self.screens["maintenance"].opened()
        self.manager.current = "maintenance"

    def close_maintenance(self) -> None:
        log.info("maintenance closed")
        self.manager.current = "welcome"
        self.flow.reset()
        self._view_changed(self.flow.view)

    def reload_config(self) -> None:
        """Re-read config.toml: library, guestbook, cards, timeouts take effect at once; the
        backend address, token and camera need a restart (the log says so)."""
        if self._reload_settings is None:
            return
        from kiosk.config import ConfigError

        try:
            settings = self._reload_settings()
        except ConfigError as exc:
            log.error("config reload refused: %s", exc)
            return
        if self.follower is not None:
            settings = self.follower.rebase(settings)
        self.use_settings(settings)
        log.info("config reloaded (backend, token and camera changes need a restart)")

    def _between_patrons(self) -> bool:
        """On Welcome (or out of service) with no staff screen: no journey to disturb."""
        idle = self.flow.state in (State.idle, State.out_of_service)
        return idle and not self.staff_screen

    def apply_update(self, update: SettingsUpdate) -> None:
        """Settings from the console, at a Welcome: the screens, the guestbook, and what the
        console changed of the service state, contrast and first language."""
        self.use_settings(update.settings)
        if update.high_contrast is not None:
            self.remember(high_contrast=update.high_contrast)
            self.high_contrast = update.high_contrast
        if update.language is not None:
            self.remember(language="")  # the console's first language from now on
        if update.in_service is not None:
            self.set_out_of_service(not update.in_service)
        self.language = self.default_language()
        self._view_changed(self.flow.view)
        log.info("settings version %s applied", update.version)

    def use_settings(self, settings: Settings) -> None:
        """Run with `settings` from now on: a new session flow for the next patron."""
        out_of_service = self.flow.state is State.out_of_service
        camera_ok = self.flow.view.camera_ok
        self.settings = settings
        self.flow = self._new_flow(settings)
        self.flow.camera_changed(camera_ok)
        if out_of_service:
            self.flow.set_out_of_service(True)
        self.screens["guestbook"].fields = settings.guestbook.fields
        if self.services.scanner is not None:
            self.services.scanner.cards = CardReader(settings.cards.pattern)
        self.title = settings.library.name

    def exit_to_desktop(self) -> None:
        self.exit_code = 0
        self.stop()

    def remember(self, **values: Any) -> None:
        """Keep kiosk state across restarts; a full or read-only disk is logged, and the
        change still holds until the next restart."""
        if self.services.state is None:
            return
        try:
            self.services.state.update(**values)
        except OSError as exc:
            log.error("cannot save kiosk state %s: %s", sorted(values), exc)

    def set_out_of_service(self, on: bool) -> None:
        self.remember(out_of_service=on)
        log.info("out of service: %s", on)
        self.flow.set_out_of_service(on)

    def open_settings(self, *_args: Any) -> bool:
        return False  # F1 must not open Kivy's settings panel on a public kiosk

    # ------------------------------------------------------------ window

    def _window_resized(self, _window: Any, size: tuple[int, int]) -> None:
        width, height = size
        self.landscape = width >= height
        self.u = min(width, height) / 1080
        self.touch = max(mm(theme.TOUCH_MM), theme.TOUCH_REF * self.u)

    def _refuse_close(self, *_args: Any) -> bool:
        log.info("window close refused (kiosk mode)")
        return True

    def _keyboard(self, _window: Any, key: int, *_args: Any) -> bool:
        # Escape (27) must never leave the kiosk; everything else is ignored too.
        return key == 27


def _on_main(action: Callable[[], None]) -> None:
    Clock.schedule_once(lambda _dt: action(), 0)
