"""Staff access: the PIN pad (digits masked, lockout) and the maintenance screen (status,
camera test, today's figures, queued visits, out-of-service, reload, language, exit)."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk import __version__
from kiosk.terminal.library_health import library_state
from kiosk.terminal.outbox import set_aside_outboxes
from kiosk.terminal.pin import PinLock, is_pin_hash
from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.camera_view import CameraView  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.keypads import NumberPad  # noqa: F401  (used in the .kv)

log = logging.getLogger("kiosk.maintenance")


def kiosk_ip() -> str:
    """The address this kiosk uses to reach the network (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


class PinScreen(KioskScreen):
    entered = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def reset(self) -> None:
        self.entered, self.message, self.busy = "", "", False
        self._opened_at = time.monotonic()
        self._show_lock_state()

    def _lock(self) -> PinLock:
        app = App.get_running_app()
        return PinLock.from_settings(
            Path(app.settings.kiosk.data_dir) / "pin-lock.json", app.settings.maintenance
        )

    def _show_lock_state(self) -> bool:
        app = App.get_running_app()
        until = self._lock().locked_until(time.time())
        if until is not None:
            self.message = app.tr("pin.locked", until=time.strftime("%H:%M", time.localtime(until)))
            return True
        if not is_pin_hash(app.settings.maintenance.pin_hash):
            self.message = app.tr("pin.not_set")
            return True
        return False

    def press(self, key: str) -> None:
        self._opened_at = time.monotonic()
        if self.busy:
            return
        if key == "back":
            self.entered = self.entered[:-1]
        elif len(self.entered) < 8:
            self.entered += key

    def submit(self) -> None:
        if self.busy or len(self.entered) < 4 or self._show_lock_state():
            return
        app = App.get_running_app()
        pin, self.entered, self.busy = self.entered, "", True
        pin_hash = app.settings.maintenance.pin_hash
        lock = self._lock()

        def check() -> None:
            result = lock.attempt(pin, pin_hash, time.time())
            Clock.schedule_once(lambda _dt: self._checked(result), 0)

        app.staff_pool.submit(check)

    def _checked(self, result) -> None:
        app = App.get_running_app()
        self.busy = False
        if result.ok:
            log.info("staff PIN accepted")
            self.message = ""
            app.open_maintenance()
            return
        log.warning("wrong staff PIN (%d attempts left)", result.attempts_left)
        if result.locked_until is not None:
            until = time.strftime("%H:%M", time.localtime(result.locked_until))
            self.message = app.tr("pin.locked", until=until)
        else:
            self.message = app.tr("pin.wrong", attempts=result.attempts_left)

    def tick(self) -> None:
        app = App.get_running_app()
        if time.monotonic() - getattr(self, "_opened_at", 0) > 30:
            app.close_maintenance()


class MaintenanceScreen(KioskScreen):
    backend_text = StringProperty("")
    camera_text = StringProperty("")
    queue_text = StringProperty("")
    dead_text = StringProperty("")  # the visits the backend refused: for staff to follow up
    today_text = StringProperty("")
    library_text = StringProperty("")  # SLiMS / INLISLite: answers or not, visits waiting
    last_read = StringProperty("")
    closes_in = NumericProperty(60)
    out_of_service = BooleanProperty(False)
    ip = StringProperty("")
    version = StringProperty(__version__)

    def opened(self) -> None:
        app = App.get_running_app()
        self._last_touch = time.monotonic()
        self._refreshed = 0.0
        self._fetching = False
        self.last_read = ""
        self.ip = kiosk_ip()
        self.out_of_service = app.flow.state.value == "out_of_service"
        self.backend_text = self.today_text = "…"
        self.tick()

    def on_touch_down(self, touch):
        self._last_touch = time.monotonic()
        return super().on_touch_down(touch)

    def tick(self) -> None:
        app = App.get_running_app()
        if app.manager.current != "maintenance":
            return
        idle = time.monotonic() - getattr(self, "_last_touch", 0)
        limit = app.settings.maintenance.close_after_seconds
        self.closes_in = max(0, int(limit - idle + 0.999))
        if idle >= limit:
            app.close_maintenance()
            return
        self._show_camera_status()
        if time.monotonic() - self._refreshed >= 3 and not self._fetching:
            # One status fetch at a time: a backend that hangs must not pile them up.
            self._refreshed = time.monotonic()
            self._fetching = True
            app.staff_pool.submit(self._fetch_status)

    def _show_camera_status(self) -> None:
        app = App.get_running_app()
        scanner = app.services.scanner
        if scanner is None or scanner.stats.camera_state != "live":
            self.camera_text = app.tr("maintenance.camera_down")
        else:
            stats = scanner.stats
            self.camera_text = app.tr(
                "maintenance.camera_ok",
                fps=f"{stats.source_fps:.0f}",
                attempts=f"{stats.decode_rate:.0f}",
            )

    def _fetch_status(self) -> None:
        """Off the main thread: the outbox's SQLite and the backend's answers."""
        app = App.get_running_app()
        try:
            self._fetch_status_now(app)
        finally:
            self._fetching = False

    def _fetch_status_now(self, app) -> None:
        outbox = app.services.outbox
        dead = outbox.dead_letters()
        queue = app.tr("maintenance.queued_value", pending=outbox.pending_count(), dead=len(dead))
        aside = set_aside_outboxes(outbox.path)
        if aside:  # a damaged outbox was moved away at start: its visits are still in it
            names = ", ".join(p.name for p in aside[-2:])
            queue += "\n" + app.tr("maintenance.outbox_set_aside", names=names)
        dead_text = "\n".join(
            app.tr(
                "maintenance.dead_letter",
                when=time.strftime("%d/%m %H:%M", time.localtime(entry.created_at)),
                card=getattr(entry.body, "card", None) or getattr(entry.body, "name", ""),
                reason=entry.last_error[:60],
            )
            for entry in dead[-3:]
        )
        health = app.services.client.health()
        paused = 0
        try:
            stats = app.services.client.stats_today()
            today = app.tr(
                "maintenance.today_value",
                visits=stats.visits,
                issued=stats.credentials_issued,
                reused=stats.credentials_reused,
            )
            paused = stats.lookups_paused_seconds
        except Exception as exc:  # shown, not raised: this is a status screen
            log.info("stats unavailable: %s", exc)
            today = app.tr("maintenance.unknown")
        if health.ok:
            backend = app.tr("maintenance.backend_ok", ms=f"{health.latency_ms:.0f}")
        else:
            backend = app.tr("maintenance.backend_down", detail=health.detail)
        if paused:  # the backend throttles this kiosk's token (someone trying numbers)
            backend += "\n" + app.tr("maintenance.lookups_paused", minutes=-(-paused // 60))
        library = self._library_text(app, health)

        def show(_dt: float) -> None:
            self.backend_text, self.today_text = backend, today
            self.library_text = library
            self.queue_text, self.dead_text = queue, dead_text

        Clock.schedule_once(show, 0)

    @staticmethod
    def _library_text(app, health) -> str:
        state = library_state(health)
        if state is None:
            key = "maintenance.library_local" if health.ok else "maintenance.unknown"
            return app.tr(key)
        key = "maintenance.library_ok" if state.answers else "maintenance.library_down"
        return app.tr(key, system=state.label, waiting=state.waiting, failed=state.failed)

    def scanner_event(self, event) -> None:
        if event.kind in ("card", "rejected"):
            self.last_read = f"{event.format}: {event.text[:40]}"
            self.ids.camera.show_read(event.points, event.frame_size)

    @property
    def camera(self):
        return self.ids.camera

    # --- actions

    def send_now(self) -> None:
        app = App.get_running_app()
        if app.services.sender is not None:
            app.services.sender.wake()
        log.info("staff: send queued visits now")

    def toggle_out_of_service(self) -> None:
        app = App.get_running_app()
        self.out_of_service = not self.out_of_service
        app.set_out_of_service(self.out_of_service)

    def toggle_default_language(self) -> None:
        app = App.get_running_app()
        app.language = "en" if app.language == "id" else "id"
        app.remember(language=app.language)
        log.info("staff: default language %s", app.language)

    def toggle_high_contrast(self) -> None:
        """Black on white for every patron screen, kept across restarts."""
        app = App.get_running_app()
        app.high_contrast = not app.high_contrast
        app.remember(high_contrast=app.high_contrast)
        log.info("staff: high contrast %s", "on" if app.high_contrast else "off")

    def reload_config(self) -> None:
        App.get_running_app().reload_config()

    def exit_to_desktop(self) -> None:
        log.info("staff: exit to desktop")
        App.get_running_app().exit_to_desktop()
