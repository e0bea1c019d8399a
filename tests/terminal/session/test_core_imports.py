"""kiosk/terminal/session stays pure: importing it pulls in no UI, HTTP or database library."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("kivy", "requests", "sqlalchemy", "fastapi", "cv2")


def test_core_modules_import_no_kivy_http_or_database() -> None:
    code = (
        "import importlib, pkgutil, sys, kiosk.terminal.session\n"
        "for m in pkgutil.iter_modules(kiosk.terminal.session.__path__):\n"
        "    importlib.import_module('kiosk.terminal.session.' + m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
