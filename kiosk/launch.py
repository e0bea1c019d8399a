"""`kiosk run`: set up Kivy for kiosk mode, build the services, run the app.

Kivy is imported only after its environment and Config are set (importing it opens a
window), so this module imports nothing of Kivy at the top.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.config import Settings, load_settings
from kiosk.logs import setup_logging
from kiosk.services import build_services


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
    from kiosk.ui.kivy_config import configure_kivy

    configure_kivy(data, fullscreen=fullscreen, size=size, touch_devices=autopilot is None)
    services = build_services(settings, camera, demo_fallback=demo)
    from kiosk.ui.app import KioskApp

    app = KioskApp(settings, services, reload_settings=lambda: load_settings(config_path))
    if autopilot is not None:
        from kiosk.ui.autopilot import Autopilot

        Autopilot(app, **autopilot).install()
    from kiosk.client import BackendClient
    from kiosk.heartbeat import HeartbeatSender

    heartbeat = HeartbeatSender(
        BackendClient(settings.kiosk),
        services.outbox,
        settings.kiosk.kiosk_id,
        lambda: services.scanner,
    )
    heartbeat.start()
    try:
        app.run()
    finally:
        services.close()
    return app.exit_code


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return run_kiosk(
        settings,
        camera=args.camera,
        fullscreen=settings.kiosk.fullscreen and not args.windowed,
        config_path=args.config,
    )
