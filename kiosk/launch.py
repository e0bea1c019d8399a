"""`kiosk run` and `kiosk demo`: set up Kivy for kiosk mode, build the services, run the app.

Kivy is imported only after its environment and Config are set (importing it opens a
window), so this module imports nothing of Kivy at the top.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import tomlkit

from kiosk.child_process import die_with_parent
from kiosk.config import Settings, load_settings
from kiosk.display import VirtualDisplay, have_display, start_xvfb
from kiosk.logs import setup_logging

log = logging.getLogger("kiosk.launch")
REPO = Path(__file__).resolve().parents[1]
DEMO_MEMBERS = REPO / "assets" / "demo" / "members.csv"
DEMO_TOKEN = "demo-token-change-me-0001"
DEMO_PIN = "2468"
DEMO_STAFF = ("demo", "pustaka-demo-2026")


def configure_kivy(
    data_dir: Path,
    *,
    fullscreen: bool,
    size: tuple[int, int],
    touch_devices: bool = True,
    position: tuple[int, int] | None = None,
) -> None:
    """Environment and Config for kiosk mode; must run before the first Kivy import."""
    kivy_home = data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    # SDL turns SIGTERM and SIGINT into a window-close request, which a kiosk refuses:
    # the launcher's own handlers stop the kiosk cleanly instead.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("graphics", "multisamples", "0")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    if position is not None:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(position[0]))
        Config.set("graphics", "top", str(position[1]))
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
    if not touch_devices:
        for option in list(Config.options("input")):
            Config.remove_option("input", option)
        Config.set("input", "mouse", "mouse")


def build_services(
    settings: Settings,
    camera: str | None,
    on_event: Any = None,
    on_frame: Any = None,
    *,
    demo_fallback: bool = False,
) -> Any:
    """Client, outbox and its sender, scanner worker, kiosk state: what the app talks to."""
    from kiosk.client import BackendClient
    from kiosk.core.cards import CardReader
    from kiosk.kiosk_state import KioskState
    from kiosk.outbox import Outbox, OutboxSender
    from kiosk.ui.app import Services

    data = Path(settings.kiosk.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    client = BackendClient(settings.kiosk)
    outbox = Outbox(data / "outbox.sqlite3")
    sender = OutboxSender(outbox, BackendClient(settings.kiosk))
    services = Services(
        client=client,
        outbox=outbox,
        sender=sender,
        state=KioskState(data / "kiosk-state.json"),
    )
    scanner_settings = settings.kiosk.scanner
    spec = camera or scanner_settings.camera
    if spec == "none":  # a keypad-only kiosk
        return services
    try:
        from kiosk.scanner.chain import build_chain
        from kiosk.scanner.gate import build_gate
        from kiosk.scanner.sources import open_source
        from kiosk.scanner.worker import ScannerWorker

        source = open_source(
            spec,
            scanner_settings.width,
            scanner_settings.height,
            scanner_settings.loop_video,
            demo_fallback=demo_fallback,
        )
        services.scanner = ScannerWorker(
            source,
            build_chain(scanner_settings),
            CardReader(settings.cards.pattern),
            debounce_seconds=scanner_settings.debounce_seconds,
            on_event=on_event,
            on_frame=on_frame,
            gate=build_gate(scanner_settings),
        )
    except Exception as exc:  # the keypad still works without a camera
        log.error("camera %r not available: %s", spec, exc)
    return services


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
    size, position = window_geometry(fullscreen, size)
    configure_kivy(
        data, fullscreen=fullscreen, size=size, touch_devices=autopilot is None, position=position
    )
    # The scanner calls back into the app, which needs the services first: a late binding.
    holder: dict[str, Any] = {}
    services = build_services(
        settings,
        camera,
        on_event=lambda event: holder["app"].scanner_event(event),
        on_frame=lambda: holder["app"].scanner_frame(),
        demo_fallback=demo,
    )
    from kiosk.ui.app import KioskApp

    app = KioskApp(settings, services, reload_settings=lambda: load_settings(config_path))
    holder["app"] = app
    if autopilot is not None:
        from kiosk.ui.autopilot import Autopilot

        Autopilot(app, **autopilot).install()
    from kiosk.ui.screen_fit import ScreenFit

    fit = ScreenFit(cover=fullscreen)
    app.bind(on_start=lambda *_: fit.start(), on_stop=lambda *_: fit.stop())
    stopped_by = stop_on_signals(app)
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
        heartbeat.stop()
        heartbeat.client.close()
        services.client.close()
        services.outbox.close()
    if stopped_by:
        log.info("kiosk stopped by %s; outbox closed", stopped_by[0])
        return 130 if stopped_by[0] == "SIGINT" else 0
    return app.exit_code


def window_geometry(
    fullscreen: bool, size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """Fullscreen: the real screen's size from the first frame. Windowed (the demo): a window
    that fits the screen it gets, in its orientation, centred on it."""
    from kiosk.screen_size import screen_size, window_within

    screen = screen_size()
    if screen is None:
        return size, None
    if fullscreen:
        return screen, (0, 0)
    fitted = window_within(screen, size)
    return fitted, ((screen[0] - fitted[0]) // 2, (screen[1] - fitted[1]) // 2)


def stop_on_signals(app: Any) -> list[str]:
    """SIGTERM (systemd stop) and SIGINT (Ctrl-C) stop the kiosk as staff's "exit" does: on
    the Kivy loop, so on_stop stops the scanner and the sender and finishes an outbox write.
    Returns the list that receives the signal's name."""
    import signal

    from kivy.clock import Clock

    received: list[str] = []

    def handle(number: int, _frame: Any) -> None:
        if not received:
            received.append(signal.Signals(number).name)
            log.info("%s received: stopping the kiosk", received[0])
            Clock.schedule_once(lambda _dt: app.stop(), 0)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, handle)
    return received


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return run_kiosk(
        settings,
        camera=args.camera,
        fullscreen=settings.kiosk.fullscreen and not args.windowed,
        config_path=args.config,
    )


# ----------------------------------------------------------------- the demo


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(settings: Settings, path: Path) -> None:
    data = settings.model_dump(mode="json", exclude_none=True)  # TOML has no null
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(data), encoding="utf-8")


def demo_settings(settings: Settings, port: int) -> Settings:
    from kiosk.core.pin import hash_pin

    data = Path(settings.kiosk.data_dir) / "demo"
    tokens = list(settings.backend.api_tokens) or [DEMO_TOKEN]
    return settings.with_overrides(
        kiosk={
            "backend_url": f"http://127.0.0.1:{port}",
            "api_token": tokens[0],
            "data_dir": str(data),
            "fullscreen": False,
        },
        backend={
            "database_url": f"sqlite:///{data / 'kiosk.db'}",
            "api_tokens": tokens,
            "host": "127.0.0.1",
            "port": port,
            "log_dir": str(data / "log"),
        },
        provisioning={"kind": "local"},
        maintenance={"pin_hash": settings.maintenance.pin_hash or hash_pin(DEMO_PIN)},
    )


def start_backend(config: Path, port: int) -> subprocess.Popen[bytes]:
    import requests

    python = sys.executable
    fresh = not (config.parent / "kiosk.db").exists()
    subprocess.run(
        [python, "-m", "kiosk", "members", "import", str(DEMO_MEMBERS), "--config", str(config)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # The staff console's demo: an admin account and three weeks of visits for the reports.
    subprocess.run(
        [python, "-m", "kiosk", "staff", "add", DEMO_STAFF[0], "--role", "admin"]
        + ["--config", str(config)],
        input=f"{DEMO_STAFF[1]}\n{DEMO_STAFF[1]}\n",
        text=True,
        check=False,  # already there from an earlier demo run
        capture_output=True,
    )
    if fresh:
        subprocess.run(
            [python, "-m", "kiosk", "demo-visits", "--config", str(config)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    process = subprocess.Popen(
        [python, "-m", "kiosk", "backend", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent(),  # never outlives the demo, even after a SIGKILL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the demo backend exited with {process.returncode}: see var/demo/log"
            )
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the demo backend did not answer within 30 s")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    port = args.port or free_port()
    settings = demo_settings(settings, port)
    data = Path(settings.kiosk.data_dir)
    config = data / "config.toml"
    write_config(settings, config)
    screen: VirtualDisplay | None = None
    headless = not have_display()
    autopilot_on = args.autopilot == "on" or (args.autopilot == "auto" and headless)
    backend = start_backend(config, port)
    print(f"demo backend: http://127.0.0.1:{port}/docs (token {settings.kiosk.api_token})")
    print(f"demo staff PIN (maintenance: hold the logo 3 s): {DEMO_PIN}")
    print(
        f"staff console: http://127.0.0.1:{port}/staff/ "
        f"(user {DEMO_STAFF[0]}, password {DEMO_STAFF[1]})"
    )
    try:
        if headless:
            screen = start_xvfb(1280, 800)
            os.environ["DISPLAY"] = screen.display
            print(f"no display: running on Xvfb {screen.display} with the demo autopilot")
        shots = Path(settings.kiosk.data_dir).parent / "screenshots"
        autopilot = (
            {"screenshots": shots, "journeys": max(1, args.journeys), "exit_when_done": headless}
            if autopilot_on
            else None
        )
        code = run_kiosk(
            settings,
            camera=args.camera,
            fullscreen=False,
            config_path=config,
            autopilot=autopilot,
            demo=True,
        )
        if autopilot_on:
            print(f"screenshots of each screen: {shots.resolve()}/")
        return code
    finally:
        backend.terminate()
        try:
            backend.wait(timeout=10)
        except subprocess.TimeoutExpired:
            backend.kill()
        if screen is not None:
            screen.stop()
