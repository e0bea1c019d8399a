"""The checks behind `kiosk doctor`: display, camera, decoders, backend, the library's
database, config, PIN, clock and outbox, each with what to do about a problem."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # shown, but not a failure


def check_access(settings: Settings) -> Check | None:
    """An enrolled kiosk's access.json (owner-only), or the setup screen's "not enrolled";
    None when config.toml's own token is used."""
    from kiosk.terminal.access import access_path, read_access

    path = access_path(settings.kiosk.data_dir)
    access = read_access(settings.kiosk.data_dir)
    if access is None and (path.exists() or not settings.kiosk.api_token):
        return Check(
            "config",
            False,
            f"not enrolled ({path} {'cannot be read' if path.exists() else 'is absent'} and "
            "[kiosk] api_token is empty): the kiosk starts into its setup screen",
            "make a code in the console's Kios page (or `kiosk kiosks add KIOSK_ID` on the "
            "backend) and type it on the setup screen, or run `kiosk enroll BACKEND_URL CODE`",
        )
    if access is None:
        return None
    where = f", location {access.location}" if access.location else ""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return Check(
            "config",
            False,
            f"enrolled as kiosk {access.kiosk_id}, but {path} is readable by others ({mode:o})",
            f"chmod 600 {path}",
        )
    return Check("config", True, f"enrolled as kiosk {access.kiosk_id}{where} ({path}, 0600)")


def check_config(settings: Settings) -> Check:
    enrolled = check_access(settings)
    if enrolled is not None:
        return enrolled
    problems = []
    if not settings.kiosk.api_token:
        problems.append("[kiosk] api_token is empty")
    if "change-me" in settings.kiosk.api_token:
        problems.append("[kiosk] api_token is still the demo token")
    if problems:
        return Check(
            "config",
            False,
            "; ".join(problems),
            "set a long random token in both [kiosk] "
            "api_token and the backend's [backend] api_tokens (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(24))')",
        )
    return Check("config", True, "valid")


def check_display() -> Check:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return Check("display", True, os.environ.get("DISPLAY") or "wayland")
    if shutil.which("Xvfb"):
        return Check(
            "display", True, "no screen; Xvfb is installed (kiosk demo uses it)", warning=True
        )
    return Check(
        "display",
        False,
        "no DISPLAY",
        "start the kiosk from the desktop session "
        "(deploy/kiosk-autostart.desktop) or set DISPLAY=:0 in the systemd unit",
    )


def check_decoders(settings: Settings) -> Check:
    if "pyzbar" in settings.kiosk.scanner.decoders:
        try:
            import numpy as np
            from pyzbar import pyzbar

            pyzbar.decode(np.zeros((8, 8), np.uint8))
        except Exception as exc:
            return Check("zbar", False, str(exc), "apt-get install libzbar0")
    try:
        import zxingcpp  # noqa: F401
    except Exception as exc:
        return Check("zxing-cpp", False, str(exc), "pip install zxing-cpp (make run does it)")
    return Check("decoders", True, ", ".join(settings.kiosk.scanner.decoders))


def check_camera(settings: Settings) -> Check:
    scanner = settings.kiosk.scanner
    if scanner.camera == "none":
        return Check("camera", True, "none configured (keypad only)", warning=True)
    try:
        from kiosk.terminal.scanner.sources import open_source

        source = open_source(scanner.camera, scanner.width, scanner.height, False)
    except Exception as exc:
        return Check(
            "camera",
            False,
            f"{scanner.camera!r}: {exc}",
            "plug the USB camera in, check "
            "`ls /dev/video*`, set [kiosk.scanner] camera; patrons can still use the keypad",
        )
    try:
        deadline = time.monotonic() + 5
        frame = None
        while frame is None and time.monotonic() < deadline:
            frame = source.read()
            if frame is None:
                time.sleep(0.1)
    except Exception as exc:
        frame, error = None, str(exc)
    else:
        error = "no frame within 5 s"
    finally:
        source.close()
    if frame is None:
        return Check("camera", False, f"{scanner.camera!r}: {error}", "replug the camera")
    height, width = frame.shape[:2]
    return Check("camera", True, f"{source.description} gives {width}x{height} frames")


def check_backend(settings: Settings) -> Check:
    from kiosk.terminal.client import BackendClient, BackendError

    with BackendClient(settings.kiosk) as client:
        health = client.health()
        if not health.ok:
            return Check(
                "backend",
                False,
                f"{settings.kiosk.backend_url}: {health.detail}",
                "is `kiosk backend` running on the server (systemctl status kiosk-backend)? "
                "is [kiosk] backend_url right? visits are kept in the outbox meanwhile",
            )
        try:
            client.stats_today()
        except BackendError as exc:
            from kiosk.terminal.access import read_access

            fix = "the kiosk's [kiosk] api_token must be one of the backend's [backend] api_tokens"
            if read_access(settings.kiosk.data_dir) is not None:
                fix = (
                    "this enrolled kiosk's token was refused (revoked in the console?): it "
                    "returns to its setup screen; make a new code in the console's Kios page"
                )
            return Check("backend", False, f"reachable but {exc.code}: {exc.message}", fix)
    return Check(
        "backend", True, f"{settings.kiosk.backend_url} answers in {health.latency_ms:.0f} ms"
    )


def check_library(settings: Settings) -> Check:
    """Whether the library's own database (SLiMS, INLISLite) answers the backend, and how
    many visits wait to be written to its guestbook table."""
    from kiosk.terminal.client import BackendClient
    from kiosk.terminal.library_health import library_state

    with BackendClient(settings.kiosk) as client:
        health = client.health()
    if health.library is None and not health.ok:
        return Check(
            "library database", True, "cannot tell: the backend does not answer", warning=True
        )
    state = library_state(health)
    if state is None:
        return Check("library database", True, "members from the backend's own table (CSV import)")
    backlog = f"{state.waiting} visit(s) waiting to be written"
    if not state.answers:
        return Check(
            "library database",
            False,
            f"{state.label} does not answer: {state.detail}; {backlog}",
            f"is the library's MariaDB/MySQL server up? check [members.{state.system}] "
            "database_url on the backend; visits are written once it answers",
        )
    if state.failed:
        return Check(
            "library database",
            False,
            f"{state.label} answers; {backlog}, {state.failed} refused and set aside",
            "on the backend: kiosk members writeback (shows the error), fix it (often a "
            "missing GRANT), then kiosk members writeback --retry-failed",
        )
    return Check("library database", True, f"{state.label} answers; {backlog}")


def check_pin(settings: Settings) -> Check:
    from kiosk.terminal.pin import is_pin_hash

    if is_pin_hash(settings.maintenance.pin_hash):
        return Check("staff PIN", True, "set")
    return Check("staff PIN", False, "not set", "run: kiosk set-pin --config config.toml")


def check_clock() -> Check:
    if shutil.which("timedatectl") is None:
        return Check("clock", True, "timedatectl not found; cannot tell", warning=True)
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("clock", True, f"cannot tell: {exc}", warning=True)
    if out == "yes":
        return Check("clock", True, "synchronised (NTP)")
    return Check(
        "clock",
        False,
        "not synchronised",
        "timedatectl set-ntp true (visit times and credential expiry depend on a right clock)",
    )


def check_outbox(settings: Settings) -> Check:
    from kiosk.terminal.outbox import Outbox, outbox_damage, set_aside_outboxes

    path = Path(settings.kiosk.data_dir) / "outbox.sqlite3"
    damage = outbox_damage(path)
    if damage is not None:
        return Check(
            "outbox",
            False,
            f"{path.name} is damaged ({damage})",
            "kiosk run sets it aside as outbox.corrupt-<time>.sqlite3 and starts a fresh one",
        )
    aside = [p.name for p in set_aside_outboxes(path)]
    pending = dead = 0
    if path.exists():
        outbox = Outbox(path)
        try:
            pending, dead = outbox.pending_count(), len(outbox.dead_letters())
        finally:
            outbox.close()
    detail = f"{pending} waiting" if path.exists() else "empty"
    if aside:
        return Check(
            "outbox",
            False,
            f"{detail}; damaged outbox set aside: {', '.join(aside[-3:])}",
            "visits in it were not sent: keep it for the developers (var/log/kiosk.log says "
            "when), delete it once looked into",
        )
    if dead:
        return Check(
            "outbox",
            False,
            f"{pending} waiting, {dead} refused by the backend",
            "see the failed visits in maintenance mode and the kiosk log (var/log/kiosk.log)",
        )
    return Check("outbox", True, detail)


def run_checks(settings: Settings) -> list[Check]:
    from kiosk.terminal.access import read_access, with_access

    settings = with_access(settings, read_access(settings.kiosk.data_dir))
    checks: list[Callable[[], Check]] = [
        lambda: check_config(settings),
        check_display,
        lambda: check_decoders(settings),
        lambda: check_camera(settings),
        lambda: check_backend(settings),
        lambda: check_library(settings),
        lambda: check_pin(settings),
        check_clock,
        lambda: check_outbox(settings),
    ]
    results = []
    names = ["config", "display", "decoders", "camera", "backend", "library database"]
    names += ["staff PIN", "clock", "outbox"]
    for name, check in zip(names, checks, strict=True):
        try:
            results.append(check())
        except Exception as exc:  # a doctor reports, it does not crash
            results.append(Check(name, False, f"the check itself failed: {exc}"))
    return results
