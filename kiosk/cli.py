"""The `kiosk` command: one entry point with subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.config import ConfigError, Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]

# subcommand -> "module:function"
HANDLERS: dict[str, str] = {
    "run": "kiosk.terminal.commands:cmd_run",
    "demo": "kiosk.demo.launcher:cmd_demo",
    "backend": "kiosk.backend.commands:cmd_backend",
    "members import": "kiosk.backend.commands:cmd_members_import",
    "members sync": "kiosk.backend.library.commands:cmd_members_sync",
    "members writeback": "kiosk.backend.library.commands:cmd_members_writeback",
    "provisioning sync": "kiosk.backend.commands:cmd_provisioning_sync",
    "network radius-config": "kiosk.backend.commands:cmd_network_radius_config",
    "backup": "kiosk.backend.commands:cmd_backup",
    "kiosks add": "kiosk.backend.commands:cmd_kiosks_add",
    "enroll": "kiosk.terminal.commands:cmd_enroll",
    "decode": "kiosk.terminal.scanner.commands:cmd_decode",
    "test-card": "kiosk.demo.printed_card:cmd_test_card",
    "set-pin": "kiosk.terminal.commands:cmd_set_pin",
    "doctor": "kiosk.terminal.commands:cmd_doctor",
    "settings": "kiosk.terminal.commands:cmd_settings",
    "staff": "kiosk.backend.console.commands:cmd_staff",
    "demo-visits": "kiosk.backend.demo_visits:cmd_demo_visits",
    "privacy purge": "kiosk.backend.privacy.commands:cmd_privacy_purge",
    "privacy export": "kiosk.backend.privacy.commands:cmd_privacy_export",
    "privacy erase": "kiosk.backend.privacy.commands:cmd_privacy_erase",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Library self-service kiosk: member card -> guestbook -> Wi-Fi credential.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    add_service_commands(sub)
    add_tool_commands(sub)
    return parser


def command(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand with its handler key and --config."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(handler=name)
    add_config(p)
    return p


def add_service_commands(sub: Any) -> None:
    """What runs or feeds the kiosk and the backend: run, demo, backend, members, provisioning,
    backup."""
    p = command(sub, "run", "run the kiosk UI against [kiosk] backend_url")
    p.add_argument("--camera", help="camera index, device path, video file or image folder")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")

    p = command(sub, "demo", "run the embedded backend with demo members and the kiosk together")
    p.add_argument(
        "--camera", help="camera source (default: a camera if found, else the demo video)"
    )
    p.add_argument(
        "--autopilot",
        choices=["auto", "on", "off"],
        default="auto",
        help="play the patron journey by itself (default: on when there is no display)",
    )
    p.add_argument(
        "--journeys",
        type=int,
        default=2,
        help="autopilot journeys before exiting (the second is a returning member, in English)",
    )
    p.add_argument("--port", type=int, default=0, help="embedded backend port (0: a free one)")

    p = command(sub, "backend", "serve the credential backend (HTTP API)")
    p.add_argument("--host", help="listen address (default: [backend] host)")
    p.add_argument("--port", type=int, help="listen port (default: [backend] port)")
    p.add_argument("--workers", type=int, help="uvicorn worker processes")

    members = sub.add_parser("members", help="member records")
    msub = members.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    p = msub.add_parser("import", help="add and update members from a CSV file")
    p.set_defaults(handler="members import")
    add_config(p)
    p.add_argument("file", type=Path, help="CSV: member_id,name,status,expires_on[,institution]")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows anyway")
    p.add_argument("--replace", action="store_true", help="delete members not in the file")
    p.add_argument("--dry-run", action="store_true", help="validate only")
    p = msub.add_parser("sync", help="copy every member of SLiMS / INLISLite into the local copy")
    p.set_defaults(handler="members sync")
    add_config(p)
    p = msub.add_parser(
        "writeback", help="visits waiting for the library's guestbook table (SLiMS / INLISLite)"
    )
    p.set_defaults(handler="members writeback")
    add_config(p)
    p.add_argument(
        "--retry-failed", action="store_true", help="put visits set aside back in the queue"
    )

    prov = sub.add_parser("provisioning", help="the network side of credentials")
    psub = prov.add_subparsers(dest="provisioning_command", metavar="ACTION", required=True)
    p = psub.add_parser("sync", help="reconcile credentials with the network side now")
    p.set_defaults(handler="provisioning sync")
    add_config(p)

    network = sub.add_parser("network", help="the RADIUS server behind the Wi-Fi")
    nsub = network.add_subparsers(dest="network_command", metavar="ACTION", required=True)
    text = "write a FreeRADIUS configuration directory ([provisioning], [internet])"
    p = nsub.add_parser("radius-config", help=text, description=text)
    p.add_argument("outdir", type=Path, help="directory to write; run: freeradius -f -d OUTDIR")
    p.set_defaults(handler="network radius-config")
    add_config(p)

    kiosks = sub.add_parser("kiosks", help="the kiosks registered with this backend")
    ksub = kiosks.add_subparsers(dest="kiosks_command", metavar="ACTION", required=True)
    text = "make a one-time enrollment code (24 h) for a new kiosk and print it"
    p = ksub.add_parser("add", help=text, description=text)
    p.set_defaults(handler="kiosks add")
    add_config(p)
    p.add_argument("kiosk_id", metavar="KIOSK_ID", help="the new kiosk's id, e.g. lobi-1")
    p.add_argument("--location", default="", help="its location code, e.g. ruang-baca")

    p = command(sub, "backup", "copy the backend database safely while it runs")
    p.add_argument("destination", type=Path, help="file to write (SQLite) or dump (PostgreSQL)")


def add_tool_commands(sub: Any) -> None:
    """The installer's and the staff's tools: decode, staff, privacy, test-card, demo-visits,
    enroll, set-pin, doctor, settings."""
    p = command(sub, "decode", "decode barcodes in images, a camera or a video")
    p.add_argument("images", nargs="*", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--decoders", help="comma-separated chain, e.g. zxing-cpp,pyzbar")
    p.add_argument("--camera", help="read live from a camera index, device or video file")
    p.add_argument("--seconds", type=float, default=0, help="with --camera: stop after this")

    staff = sub.add_parser("staff", help="staff console accounts")
    ssub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    for action, help_text in (
        ("add", "add an account (password asked twice, or two lines on standard input)"),
        ("passwd", "set an account's password"),
        ("disable", "disable an account (its sessions end)"),
        ("enable", "enable a disabled account"),
        ("list", "list the accounts"),
    ):
        p = ssub.add_parser(action, help=help_text, description=help_text)
        p.set_defaults(handler="staff")
        add_config(p)
        if action != "list":
            p.add_argument("username")
        if action == "add":
            p.add_argument("--role", choices=["staff", "admin"], default="staff")

    add_privacy_commands(sub)

    p = command(sub, "test-card", "print a member card to hold up to a new camera")
    p.add_argument("member_id", metavar="MEMBER_ID", help="the member number the card carries")
    p.add_argument(
        "--format",
        choices=["Codabar", "Code128", "Code39", "QR"],
        default="Codabar",
        help="the card's barcode (default: Codabar)",
    )
    p.add_argument(
        "out",
        type=Path,
        metavar="OUT.png|OUT.pdf|OUT.mp4",
        help="file to write: a card to print, or a clip of it held up to a camera",
    )

    p = command(sub, "demo-visits", "add made-up visits for the demo's console reports (demo only)")
    p.add_argument("--days", type=int, default=21, help="how many past days (default 21)")
    p.add_argument("--seed", type=int, default=7, help="random seed")

    text = "enroll this kiosk with a code from the console (keeps its access in data_dir)"
    p = command(sub, "enroll", text)
    p.add_argument("backend_url", metavar="BACKEND_URL", help="e.g. http://192.168.1.10:8000")
    p.add_argument("code", metavar="CODE", help="the code the console shows, e.g. K7QD-3M9P")

    command(sub, "set-pin", "set the staff PIN for maintenance mode")
    command(sub, "doctor", "check display, camera, zbar, backend, config and PIN")
    command(sub, "settings", "print, as JSON, the settings this kiosk runs with and their source")


def add_privacy_commands(sub: Any) -> None:
    """`kiosk privacy purge|export|erase`: what the library keeps about members (UU PDP)."""
    privacy = sub.add_parser("privacy", help="members' personal data: retention, export, erasure")
    psub = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    for action, help_text in (
        ("purge", "apply [privacy] retention_days now and print what was removed"),
        ("export", "print everything held about a member as JSON (no passwords)"),
        ("erase", "remove a member's data and revoke their credential on the network side"),
    ):
        p = psub.add_parser(action, help=help_text, description=help_text)
        p.set_defaults(handler=f"privacy {action}")
        add_config(p)
        if action == "purge":
            p.add_argument("--dry-run", action="store_true", help="count only, change nothing")
        else:
            p.add_argument("member_id", metavar="MEMBER_ID", help="the member number")


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="configuration file (default: ./config.toml)",
    )


def resolve(key: str) -> Handler:
    module_name, _, function = HANDLERS[key].partition(":")
    handler: Handler = getattr(importlib.import_module(module_name), function)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return resolve(args.handler)(args, settings)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
