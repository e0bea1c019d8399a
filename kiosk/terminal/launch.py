"""`kiosk run`: set up Kivy for kiosk mode, build the services, run the app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import Settings, load_settings
from kiosk.logs import setup_logging
from kiosk.terminal.services import Services, build_services

if TYPE_CHECKING:
    from kiosk.terminal.heartbeat import HeartbeatSender
    from kiosk.terminal.steering import SettingsFollower

log = logging.getLogger("kiosk.launch")


def run_kiosk(
    settings: Settings,
    *,
    camera: str | None,
    fullscreen: bool,
    size: tuple[int, int] = (1280, 800),
    config_path: Path | None = None,
    autopilot: dict[str, Any] | None = None,
    demo: bool = False,
) -> int:
    data = Path(settings.kiosk.data_dir)
    setup_logging(data / "log", "kiosk")
    from kiosk.terminal.ui.kivy_config import configure_kivy

    size, position = window_geometry(fullscreen, size)
    # No window manager (a bare X session, as on the kiosk PC): nobody can move or maximise a
    # window, so the demo covers its screen as `kiosk run` does, and follows its changes.
    cover = fullscreen or position == (0, 0)
    configure_kivy(
        data, fullscreen=fullscreen, size=size, touch_devices=autopilot is None, position=position
    )
    from kiosk.terminal.access import AccessKeeper
    from kiosk.terminal.steering import SettingsFollower

    access = AccessKeeper(settings)  # access.json's token and id over the file's
    # The last good copy of the console's settings over that: the kiosk starts with it when
    # the backend is down, and the heartbeat brings the current version.
    follower = SettingsFollower(access.settings, data)
    settings = follower.settings
    services = build_services(settings, camera, demo_fallback=demo)
    access.watch(services.client)
    if services.sender is not None:
        access.watch(services.sender.client)
    from kiosk.terminal.ui.app import KioskApp

    app = KioskApp(
        settings,
        services,
        reload_settings=lambda: access.reloaded(load_settings(config_path)),
        access=access,
        follower=follower,
    )
    if autopilot is not None:
        from kiosk.terminal.ui.autopilot import Autopilot

        Autopilot(app, **autopilot).install()
    from kiosk.terminal.ui.screen_fit import ScreenFit

    fit = ScreenFit(cover=cover)
    app.bind(on_start=lambda *_: fit.start(), on_stop=lambda *_: fit.stop())
    from kiosk.terminal.ui.stop_signals import stop_on_signals

    stopped_by = stop_on_signals(app)
    heartbeat = heartbeat_for(settings, services, follower)
    access.watch(heartbeat.client)

    def beat_as(enrolled: Settings) -> None:
        heartbeat.kiosk_id = enrolled.kiosk.kiosk_id
        heartbeat.wake()

    access.on_change(beat_as)
    heartbeat.start()
    try:
        app.run()
    finally:
        services.close()
    if stopped_by:
        log.info("kiosk stopped by %s; outbox closed", stopped_by[0])
        return 130 if stopped_by[0] == "SIGINT" else 0
    return app.exit_code


def heartbeat_for(
    settings: Settings, services: Services, follower: SettingsFollower | None
) -> HeartbeatSender:
    """The heartbeat thread (not started): alive, outbox, camera, and the settings to follow."""
    from kiosk.terminal.client import BackendClient
    from kiosk.terminal.heartbeat import HeartbeatSender

    return HeartbeatSender(
        BackendClient(settings.kiosk),
        services.outbox,
        settings.kiosk.kiosk_id,
        lambda: services.scanner,
        interval=settings.kiosk.heartbeat_seconds,
        follower=follower,
    )


def window_geometry(
    fullscreen: bool, size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """Fullscreen, or no window manager: the real screen's size from the first frame.
    Windowed (the demo on a desktop): a window that fits the screen it gets, in its
    orientation, centred on it."""
    from kiosk.terminal.screen_size import screen_size, window_manager_running, window_within

    screen = screen_size()
    if screen is None:
        return size, None
    if fullscreen or not window_manager_running():
        return screen, (0, 0)
    fitted = window_within(screen, size)
    return fitted, ((screen[0] - fitted[0]) // 2, (screen[1] - fitted[1]) // 2)
