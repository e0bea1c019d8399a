"""The setup screen in the real window: a kiosk without access enrolls by touch with a code
from `kiosk kiosks add`, errors are shown in words and change nothing, and a kiosk revoked in
the console (Debian's Chromium) returns to setup at the next Welcome, never mid-journey."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer, free_port
from support.console_browser import ADMIN, add_admin, admin_page

from kiosk.protocol import HeartbeatRequest
from kiosk.terminal.access import AccessKeeper, access_path
from kiosk.terminal.client import BackendClient
from kiosk.terminal.heartbeat import HeartbeatSender

from .conftest import ARTIFACTS, REPO, Harness, settings_for

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "screens" / "setup"


def type_code(kiosk: Harness, code: str) -> None:
    screen = kiosk.app.screens["setup"]
    for _ in range(len(screen.code)):
        kiosk.tap(key_on(kiosk, "back"))
    for character in code.replace("-", "").upper():
        kiosk.tap(key_on(kiosk, character))


def key_on(kiosk: Harness, key: str) -> Any:
    pad = kiosk.app.screens["setup"].ids.pad
    return next(w for w in pad.children if getattr(w, "key", None) == key)


def submit(kiosk: Harness) -> Any:
    screen = kiosk.app.screens["setup"]
    kiosk.tap(screen.ids.ok)
    kiosk.wait_for(lambda: not screen.busy, what="the backend's answer")
    return screen


def unenrolled(server: BackendServer, data: Path, **kiosk: Any) -> Any:
    return settings_for(server, data, kiosk={"api_token": "", "kiosk_id": "kiosk-1", **kiosk})


def test_a_kiosk_without_access_enrolls_by_touch_and_serves_at_once(
    start_kiosk: Any, tmp_path: Path
) -> None:
    config_before = (REPO / "config.toml").read_bytes()
    with BackendServer(tmp_path / "server") as server:
        code = server.kiosk("kiosks", "add", "lobi-sentuh").stdout.strip()
        used = server.kiosk("kiosks", "add", "lobi-lain").stdout.strip()
        settings = unenrolled(server, tmp_path / "data")
        access = AccessKeeper(settings)
        kiosk = start_kiosk(settings, access=access)
        screen = kiosk.wait_screen("setup")
        assert kiosk.tr("setup.title") in kiosk.texts()
        assert screen.address == server.base_url  # prefilled from the file
        # Wrong, then used: said in words, and nothing changes.
        type_code(kiosk, "ZZZZ-ZZZZ")
        assert screen.ids.code_box.text == "ZZZZ-ZZZZ"
        submit(kiosk)
        assert screen.error == "wrong" and kiosk.tr("setup.error.wrong") in kiosk.texts()
        assert server.post("/kiosks/enroll", json={"code": used}, headers={}).status_code == 201
        type_code(kiosk, used)
        submit(kiosk)
        assert screen.error == "used" and kiosk.tr("setup.error.used") in kiosk.texts()
        assert not access_path(settings.kiosk.data_dir).exists()
        assert kiosk.app.manager.current == "setup"
        # The right code, typed on the pad: Welcome, as kiosk lobi-sentuh, without a restart.
        type_code(kiosk, code)
        submit(kiosk)
        kiosk.wait_screen("welcome")
        assert kiosk.app.settings.kiosk.kiosk_id == "lobi-sentuh"
        assert kiosk.app.flow._kiosk_id == "lobi-sentuh"  # its visits carry the new id
        path = access_path(settings.kiosk.data_dir)
        assert path.stat().st_mode & 0o777 == 0o600
        assert "lobi-sentuh" in path.read_text(encoding="utf-8")
        beat = kiosk.app.services.client.heartbeat(HeartbeatRequest(kiosk_id="lobi-sentuh"))
        assert beat.received_at  # the client carries the new token
    assert (REPO / "config.toml").read_bytes() == config_before


@pytest.mark.parametrize("size", ["portrait", "landscape"])
def test_the_setup_screen_in_both_languages_and_its_unreachable_error(
    start_kiosk: Any, tmp_path: Path, size: str
) -> None:
    width, height = (1080, 1920) if size == "portrait" else (1920, 1080)
    with BackendServer(tmp_path / "server", members_csv=None, start=False) as server:
        closed = f"http://127.0.0.1:{free_port()}"
        settings = unenrolled(server, tmp_path / "data", backend_url=closed)
        kiosk = start_kiosk(settings, size=(width, height), access=AccessKeeper(settings))
        screen = kiosk.wait_screen("setup")
        for language in ("id", "en"):
            kiosk.app.language = language
            type_code(kiosk, "K7QD-3M9P")
            assert screen.ids.code_box.text == "K7QD-3M9P"  # no tap lost to a moving layout
            kiosk.screenshot(SHOTS / f"setup-{language}-{width}x{height}.png")
            submit(kiosk)
            assert screen.error == "unreachable"
            assert closed in kiosk.texts() and kiosk.tr("setup.error.unreachable", address=closed)
            kiosk.screenshot(SHOTS / f"setup-error-{language}-{width}x{height}.png")
        kiosk.tap(screen.ids.address_box)
        kiosk.pump(0.2)  # the pad's new keys laid out
        assert screen.editing == "address" and key_on(kiosk, ":") is not None
        kiosk.screenshot(SHOTS / f"setup-address-en-{width}x{height}.png")
        assert not access_path(settings.kiosk.data_dir).exists()


def revoke_in_chromium(server: BackendServer, kiosk_id: str) -> None:
    with admin_page(server) as page:
        page.goto("/staff/kiosks")
        row = page.locator("tr", has_text=kiosk_id)
        with page.expect_navigation():
            row.locator("form[action='/staff/kiosks/revoke'] button").click()


def test_a_kiosk_revoked_in_the_console_returns_to_setup_after_the_journey(
    start_kiosk: Any, tmp_path: Path
) -> None:
    with BackendServer(tmp_path / "server") as server:
        add_admin(server)
        code = server.kiosk("kiosks", "add", "lobi-dicabut").stdout.strip()
        settings = unenrolled(server, tmp_path / "data")
        enrolled = kiosk_command(write_config(settings), "enroll", server.base_url, code)
        assert enrolled.returncode == 0, enrolled.stderr
        access = AccessKeeper(settings)
        assert access.access is not None and not access.setup_wanted
        kiosk = start_kiosk(access.settings, access=access)
        kiosk.wait_screen("welcome")
        heartbeat = HeartbeatSender(
            BackendClient(access.settings.kiosk),
            kiosk.app.services.outbox,
            "lobi-dicabut",
            lambda: None,
            interval=0.3,
        )
        access.watch(heartbeat.client)
        heartbeat.start()
        try:
            kiosk.tap(kiosk.button(kiosk.tr("welcome.keypad")))  # a patron starts typing
            kiosk.wait_screen("keypad")
            revoke_in_chromium(server, "lobi-dicabut")
            kiosk.wait_for(lambda: access.setup_wanted, 30, "the token refused")
            assert not access_path(settings.kiosk.data_dir).exists()
            kiosk.pump(0.5)
            assert kiosk.app.manager.current == "keypad"  # never mid-journey
            kiosk.tap(kiosk.button(kiosk.tr("common.cancel")))
            screen = kiosk.wait_screen("setup")
            assert screen.address == server.base_url
        finally:
            heartbeat.stop()


def test_a_revoked_kiosk_idle_on_welcome_shows_setup_at_once(
    start_kiosk: Any, tmp_path: Path
) -> None:
    with BackendServer(tmp_path / "server", members_csv=None) as server:
        add_admin(server)
        code = server.kiosk("kiosks", "add", "lobi-diam").stdout.strip()
        settings = unenrolled(server, tmp_path / "data")
        assert (
            kiosk_command(write_config(settings), "enroll", server.base_url, code).returncode == 0
        )
        access = AccessKeeper(settings)
        kiosk = start_kiosk(access.settings, access=access)
        kiosk.wait_screen("welcome")
        heartbeat = HeartbeatSender(
            BackendClient(access.settings.kiosk),
            kiosk.app.services.outbox,
            "lobi-diam",
            lambda: None,
            interval=0.3,
        )
        access.watch(heartbeat.client)
        heartbeat.start()
        try:
            console = server.staff_browser(*ADMIN)
            page = console.get(f"{server.base_url}/staff/kiosks", timeout=10).text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            console.post(
                f"{server.base_url}/staff/kiosks/revoke",
                data={"csrf": csrf, "kiosk_id": "lobi-diam"},
                timeout=10,
            )
            kiosk.wait_screen("setup", timeout=30)  # the token cache (5 s), then a beat
            assert not access_path(settings.kiosk.data_dir).exists()
        finally:
            heartbeat.stop()


def kiosk_command(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kiosk ARGS --config CONFIG` as the installer runs it on the kiosk."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def write_config(settings: Any) -> Path:
    """A config.toml with the kiosk's own keys, as a fresh kiosk has it (no token)."""
    import tomlkit

    path = Path(settings.kiosk.data_dir).parent / "kiosk-config.toml"
    path.write_text(
        tomlkit.dumps(
            {
                "kiosk": {
                    "backend_url": settings.kiosk.backend_url,
                    "data_dir": settings.kiosk.data_dir,
                }
            }
        ),
        encoding="utf-8",
    )
    os.chmod(path, 0o644)
    return path


def test_kiosk_run_without_access_opens_setup_and_takes_a_command_line_enrollment(
    tmp_path: Path,
) -> None:
    """`kiosk run` as the kiosk PC starts it (its own Xvfb): no token, so the setup screen;
    `kiosk enroll` meanwhile, and the running kiosk serves as the enrolled kiosk."""
    from kiosk.demo.display import start_xvfb

    with BackendServer(tmp_path / "server", members_csv=None) as server:
        settings = unenrolled(server, tmp_path / "data")
        config = write_config(settings)
        log = Path(settings.kiosk.data_dir) / "log" / "kiosk.log"
        display = start_xvfb(1080, 1920)
        env = {**os.environ, "DISPLAY": display.display, "KIVY_NO_ARGS": "1"}
        env.pop("KIVY_HOME", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "run", "--camera", "none", "--config", str(config)],
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_line(log, "setup screen: this kiosk needs an enrollment code", process)
            code = server.kiosk("kiosks", "add", "lobi-proses").stdout.strip()
            done = kiosk_command(config, "enroll", server.base_url, code)
            assert done.returncode == 0, done.stderr
            wait_for_line(log, "enrolled: now kiosk lobi-proses", process)
            # It beats at once, as the enrolled kiosk with the enrolled token.
            wait_for_line(server.log_path, "POST /api/v1/kiosks/heartbeat 200", process)
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0
            display.stop()


def wait_for_line(log: Path, line: str, process: subprocess.Popen[bytes]) -> None:
    """Until the kiosk's log has `line` (its file grows as the kiosk runs: polled)."""
    import time

    deadline = time.monotonic() + 60
    while not (log.exists() and line in log.read_text(encoding="utf-8")):
        assert process.poll() is None, f"the kiosk exited {process.returncode}"
        assert time.monotonic() < deadline, f"no {line!r} in {log} after 60 s"
        time.sleep(0.2)
