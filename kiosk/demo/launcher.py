"""`kiosk demo`: the backend with the demo members and the kiosk together, one command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import tomlkit

from kiosk.config import Settings
from kiosk.demo.child_process import die_with_parent
from kiosk.demo.display import VirtualDisplay, have_display, start_xvfb
from kiosk.ports import free_port
from kiosk.terminal.launch import run_kiosk

REPO = Path(__file__).resolve().parents[2]
DEMO_MEMBERS = REPO / "assets" / "demo" / "members.csv"
DEMO_TOKEN = "demo-token-change-me-0001"
DEMO_PIN = "2468"
DEMO_STAFF = ("demo", "pustaka-demo-2026")


def write_config(settings: Settings, path: Path) -> None:
    data = settings.model_dump(mode="json", exclude_none=True)  # TOML has no null
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(data), encoding="utf-8")


def demo_settings(settings: Settings, port: int) -> Settings:
    from kiosk.terminal.pin import hash_pin

    data = Path(settings.kiosk.data_dir) / "demo"
    tokens = list(settings.backend.api_tokens) or [DEMO_TOKEN]
    return settings.with_overrides(
        kiosk={
            "backend_url": f"http://127.0.0.1:{port}",
            "api_token": "",  # the demo kiosk is enrolled with a code, as a library's would be
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


def enroll_demo_kiosk(settings: Settings, config: Path) -> None:
    """Enroll the demo kiosk with a one-time code, as an installer would; on later runs keep
    its access and point it at this run's port."""
    from dataclasses import replace

    from kiosk.terminal.access import enroll, read_access, write_access

    url = settings.kiosk.backend_url
    kept = read_access(settings.kiosk.data_dir)
    if kept is not None:
        if kept.backend_url != url:
            write_access(settings.kiosk.data_dir, replace(kept, backend_url=url))
        return
    made = subprocess.run(
        [sys.executable, "-m", "kiosk", "kiosks", "add", settings.kiosk.kiosk_id]
        + ["--config", str(config)],
        check=True,
        capture_output=True,
        text=True,
    )
    code = next(w for w in made.stdout.split() if len(w) == 9 and w[4] == "-")
    access = enroll(settings, url, code)
    print(f"demo kiosk enrolled as {access.kiosk_id} with the code {code}")


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
    enroll_demo_kiosk(settings, config)
    print(f"demo backend: http://127.0.0.1:{port}/docs (token {settings.backend.api_tokens[0]})")
    print(f"demo staff PIN (maintenance: hold the logo 3 s): {DEMO_PIN}")
    print(
        f"staff console: http://127.0.0.1:{port}/staff/ "
        f"(user {DEMO_STAFF[0]}, password {DEMO_STAFF[1]}); its Pengaturan page steers the kiosk"
    )
    print(
        "a second kiosk: make a code on the console's Kios page, or run "
        f"`kiosk kiosks add kiosk-2 --config {config}`; then type it on the new kiosk's setup "
        f"screen, or run `kiosk enroll http://127.0.0.1:{port} CODE` there"
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
