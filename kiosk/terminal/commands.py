"""The kiosk terminal's command handlers: `kiosk run`, `enroll`, `set-pin`, `doctor`, `settings`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from kiosk.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, parse_settings
from kiosk.terminal.pin import PinFormatError, check_pin_format, hash_pin


def _read_twice() -> tuple[str, str] | None:
    """Two PIN entries: hidden prompts on a terminal, else two lines of standard input
    (scripted installs). None when standard input ends early."""
    if sys.stdin.isatty():
        first = getpass.getpass("New staff PIN (4-8 digits): ")
        second = getpass.getpass("The same PIN again: ")
        return first, second
    lines = []
    for _ in range(2):
        line = sys.stdin.readline()
        if not line:
            return None
        lines.append(line.rstrip("\r\n"))
    return lines[0], lines[1]


def store_pin_hash(path: Path, pin_hash: str) -> None:
    """Set `[maintenance] pin_hash` in the TOML file at `path` (created if missing), keeping
    everything else byte for byte; the new file replaces the old one atomically."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    section = document.get("maintenance")
    if section is None:
        table = tomlkit.table()
        table.add(tomlkit.comment("Set with `kiosk set-pin`; only a salted hash is stored here."))
        table.add("pin_hash", pin_hash)
        if text and not text.endswith("\n\n"):
            document.add(tomlkit.nl())
        document.add("maintenance", table)
    elif isinstance(section, Table | dict):
        section["pin_hash"] = pin_hash
    else:
        raise ConfigError(f"{path}: maintenance is not a table")
    new_text = tomlkit.dumps(document)
    # Never write a file the kiosk would then refuse to start with.
    parse_settings(tomlkit.parse(new_text).unwrap(), str(path))
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_set_pin(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.config) if args.config is not None else DEFAULT_CONFIG_PATH
    entries = _read_twice()
    if entries is None:
        print("kiosk set-pin: expected the PIN twice on standard input", file=sys.stderr)
        return 1
    first, second = entries
    if first != second:
        print("kiosk set-pin: the two PINs differ; nothing changed", file=sys.stderr)
        return 1
    try:
        check_pin_format(first)
    except PinFormatError as exc:
        print(f"kiosk set-pin: {exc}; nothing changed", file=sys.stderr)
        return 1
    store_pin_hash(path, hash_pin(first))
    print(f"Staff PIN set: its hash is in [maintenance] pin_hash of {path}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.terminal.launch import run_kiosk  # the client, outbox and Kivy: only for `kiosk run`

    return run_kiosk(
        settings,
        camera=args.camera,
        fullscreen=settings.kiosk.fullscreen and not args.windowed,
        config_path=args.config,
    )


# EnrollmentRefused.reason in words, for `kiosk enroll`.
ENROLL_REFUSALS = {
    "address": "not a backend address",
    "format": "not an enrollment code",
    "wrong": "the backend does not know this code (or it was revoked)",
    "used": "this code was used already: make a new one in the console",
    "expired": "this code has expired (codes live 24 hours): make a new one in the console",
    "throttled": "too many wrong codes from this machine: wait, then try again",
    "unreachable": "the backend cannot be reached",
    "refused": "the backend refused",
}


def cmd_enroll(args: argparse.Namespace, settings: Settings) -> int:
    """`kiosk enroll BACKEND_URL CODE`: enroll without the screen (access in data_dir)."""
    from kiosk.terminal.access import EnrollmentRefused, access_path, enroll, read_access

    earlier = read_access(settings.kiosk.data_dir)
    try:
        access = enroll(settings, args.backend_url, args.code)
    except EnrollmentRefused as exc:
        words = ENROLL_REFUSALS.get(exc.reason, "refused")
        print(f"kiosk enroll: {words} ({exc}); nothing changed", file=sys.stderr)
        return 2 if exc.reason in ("address", "format") else 1
    if earlier is not None:
        print(f"kiosk enroll: replaces the earlier access of kiosk {earlier.kiosk_id}")
    where = f" at location {access.location}" if access.location else ""
    print(
        f"kiosk enroll: enrolled as kiosk {access.kiosk_id}{where} with {access.backend_url}; "
        f"its access is in {access_path(settings.kiosk.data_dir)} (owner only). "
        "Start it with: kiosk run"
    )
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when all is well."""
    from kiosk.terminal.doctor import run_checks

    results = run_checks(settings)
    width = max(len(c.name) for c in results)
    for c in results:
        mark = "OK  " if c.ok and not c.warning else ("note" if c.ok else "FAIL")
        print(f"{mark}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            print(f"{'':6}{'':<{width}}  what to do: {c.fix}")
    failed = [c for c in results if not c.ok]
    print(f"doctor: {len(results) - len(failed)} checks fine, {len(failed)} need attention")
    return 1 if failed else 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    """Print, as JSON, the settings the kiosk runs with: the console's last copy, or the file."""
    import json

    from kiosk.terminal.steering import SettingsFollower

    follower = SettingsFollower(settings, settings.kiosk.data_dir)
    print(json.dumps(follower.describe(), ensure_ascii=False, indent=2))
    return 0
