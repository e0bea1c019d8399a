"""The real kiosk app in a real window under Xvfb, driven by real touches.

One Xvfb for the session (large enough for both orientations); Kivy's environment and
Config are set before its first import. Each test builds a fresh KioskApp and steps the
event loop itself instead of App.run() (see shared/KIVY-TESTING.md).

Under pytest-xdist every worker is a process of its own with its own session: its own Xvfb
(a free display number), Kivy home, window and Kivy state, so both workers run window
tests at once; the screenshots are written under a per-process name, then renamed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from kiosk.config import Settings, load_settings
from kiosk.demo.display import start_xvfb

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "tests" / "artifacts"
SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920), "small": (1280, 800)}


@pytest.fixture(scope="session")
def kivy_window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    display = start_xvfb(1920, 1920)
    os.environ["DISPLAY"] = display.display
    from kiosk.terminal.ui.kivy_config import configure_kivy

    configure_kivy(
        tmp_path_factory.mktemp("kivy"), fullscreen=False, size=(1280, 800), touch_devices=False
    )
    from kivy.core.window import Window

    yield Window
    display.stop()


class Harness:
    """Steps the loop, taps widgets through real hit-testing, reads the screen."""

    def __init__(self, app: Any, window: Any) -> None:
        self.app = app
        self.window = window
        self.taps = 0

    def pump(self, seconds: float = 0.05) -> None:
        from kivy.base import EventLoop

        end = time.monotonic() + seconds
        while True:
            EventLoop.idle()
            if time.monotonic() >= end:
                return
            time.sleep(0.005)

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 15.0, what: str = ""
    ) -> None:
        from kivy.base import EventLoop

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            EventLoop.idle()
            if condition():
                return
            time.sleep(0.005)
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what or condition}; "
            f"screen={self.app.manager.current} state={self.app.flow.state.value}"
        )

    def wait_screen(self, name: str, timeout: float = 15.0) -> Any:
        self.wait_for(lambda: self.app.manager.current == name, timeout, f"screen {name}")
        self.pump(0.15)  # let the layout settle before touching or photographing it
        return self.app.screens[name]

    def tap(self, widget: Any) -> None:
        from kivy.tests.common import UnitTestTouch

        assert widget.get_root_window() is not None, f"{widget} is not on screen"
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(0.02)
        touch.touch_up()
        self.taps += 1
        self.pump(0.05)

    def hold_logo(self, seconds: float) -> None:
        """Press and hold the top bar's logo (the hidden maintenance gesture)."""
        from kivy.tests.common import UnitTestTouch

        area = self.app.root.ids.topbar.ids.hold
        x, y = area.to_window(*area.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(seconds)
        touch.touch_up()
        self.pump(0.1)

    def open_pin_pad(self) -> Any:
        """The gesture as staff make it: hold the logo a little longer than configured."""
        self.hold_logo(self.app.settings.maintenance.gesture_seconds + 0.3)
        return self.wait_screen("pin")

    def enter_pin(self, pin: str) -> None:
        """Tap the PIN's digits on the pad, then OK, and wait for the check."""
        screen = self.app.screens["pin"]
        for digit in pin:
            self.tap(next(w for w in screen.ids.pad.children if getattr(w, "key", None) == digit))
        self.tap(screen.ids.ok)
        self.wait_for(lambda: not screen.busy, what="PIN checked")

    def button(self, text: str, root: Any = None) -> Any:
        for widget in (root or self.app.root).walk(restrict=True):
            if getattr(widget, "text", None) == text and hasattr(widget, "trigger_action"):
                return widget
        raise AssertionError(f"no button {text!r} on screen {self.app.manager.current}")

    def tr(self, key: str, **values: object) -> str:
        return str(self.app.tr(key, **values))

    def texts(self) -> str:
        """Every text on the window, popups included."""
        parts = []
        for child in self.window.children:
            for widget in child.walk(restrict=True):
                text = getattr(widget, "text", None)
                if isinstance(text, str) and text:
                    parts.append(text)
        return "\n".join(parts)

    def type_member(self, number: str) -> None:
        self.tap(self.button(self.tr("welcome.keypad")))
        keypad = self.wait_screen("keypad")
        for digit in number:
            key = next(w for w in keypad.pad.children if getattr(w, "key", None) == digit)
            self.tap(key)
        self.tap(keypad.ids.ok)

    def type_birth_date(self, digits: str) -> Any:
        """On the date pad: the digits (DDMMYYYY), then Lanjut. Returns the screen."""
        pad = self.wait_screen("birth_date")
        for digit in digits:
            key = next(w for w in pad.pad.children if getattr(w, "key", None) == digit)
            self.tap(key)
        if not pad.ids.ok.disabled:
            self.tap(pad.ids.ok)
        return pad

    def chip(self, field: str, choice: str) -> Any:
        row = self.app.screens["guestbook"]._rows[field]
        return next(c for c in row.ids.chips.children if c.key == choice)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.pump(0.1)
        # Kivy picks a free numbered name; another worker may be picking in the same folder.
        mine = path.with_name(f".{path.stem}-{os.getpid()}.png")
        taken = self.window.screenshot(name=str(mine))
        assert taken, "no screenshot taken"
        Path(taken).replace(path)
        return path


def settings_for(server: BackendServer, data_dir: Path, **overrides: dict[str, Any]) -> Settings:
    base = load_settings(REPO / "config.toml")
    kiosk = {
        "backend_url": server.base_url,
        "api_token": server.token,
        "data_dir": str(data_dir),
        "fullscreen": False,
        "sound": False,
        "connect_timeout": 1.0,
        "read_timeout": 3.0,
    }
    kiosk.update(overrides.pop("kiosk", {}))
    return base.with_overrides(kiosk=kiosk, **overrides)


@pytest.fixture
def start_kiosk(kivy_window: Any, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """start_kiosk(settings, camera=None, size=(1280, 800), access=None) -> Harness with the app
    running; `access` (an AccessKeeper) as `kiosk run` wires it: enrollment and revocation."""
    from kivy.app import App

    from kiosk.terminal.ui.kv import unload_all

    started: list[Any] = []

    def stop(app: Any) -> None:
        heartbeat = getattr(app, "test_heartbeat", None)
        if heartbeat is not None:
            heartbeat.stop()
        app.dispatch("on_stop")
        for child in list(kivy_window.children):
            kivy_window.remove_widget(child)
        app.services.close()
        App._running_app = None

    def start(
        settings: Settings,
        camera: str | None = None,
        size: tuple[int, int] = (1280, 800),
        follow: bool = False,
        access: Any = None,
    ) -> Harness:
        """follow: as `kiosk run` does, start from the settings copy and run the heartbeat
        that follows the console's settings."""
        from kiosk.terminal.launch import heartbeat_for
        from kiosk.terminal.services import build_services
        from kiosk.terminal.steering import SettingsFollower
        from kiosk.terminal.ui.app import KioskApp

        while started:  # one kiosk at a time: a second start is a restart
            stop(started.pop())
        follower = SettingsFollower(settings, settings.kiosk.data_dir) if follow else None
        if follower is not None:
            settings = follower.settings

        kivy_window.size = size
        services = build_services(settings, camera or "none")
        if camera is None:
            # No camera given: the configured camera is missing (Welcome's "camera not
            # available" banner), unless the settings themselves say "none".
            services.keypad_only = settings.kiosk.scanner.camera == "none"
        if access is not None:
            access.watch(services.client)
            if services.sender is not None:
                access.watch(services.sender.client)
        app = KioskApp(
            settings,
            services,
            reload_settings=lambda: settings,
            access=access,
            follower=follower,
        )
        app._run_prepare()
        started.append(app)
        if follower is not None:
            app.test_heartbeat = heartbeat_for(settings, services, follower)
            app.test_heartbeat.start()
        harness = Harness(app, kivy_window)
        harness.pump(0.2)
        return harness

    yield start

    while started:
        stop(started.pop())
    unload_all()
