"""Operators grep and filter the logs by logger name: the names stay as they were before the
reshape moved the modules (a name that changes silently breaks their filters)."""

from __future__ import annotations

import re
from pathlib import Path

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
# The names operators know; a new logger may add to this list, none may rename one.
KNOWN = {
    "kiosk.autopilot", "kiosk.backend", "kiosk.backend.access", "kiosk.backend.checkins",
    "kiosk.backend.console.audit", "kiosk.backend.guests", "kiosk.backend.http",
    "kiosk.backend.library", "kiosk.backend.privacy", "kiosk.backend.typed_entry",
    "kiosk.backend.writeback", "kiosk.client", "kiosk.heartbeat", "kiosk.launch",
    "kiosk.maintenance", "kiosk.outbox", "kiosk.outbox_file", "kiosk.scanner.sources",
    "kiosk.scanner.worker", "kiosk.screen", "kiosk.state", "kiosk.ui",
    "kiosk.backend.provisioning.disconnect", "kiosk.backend.console", "alembic",
    "kiosk.backend.satisfaction", "kiosk.steering", "kiosk.backend.steering",
    "kiosk.backend.enrollment", "kiosk.enrollment",
}  # fmt: skip
NAMED = re.compile(r'getLogger\("([^"]+)"\)')


def test_every_logger_name_is_one_operators_know() -> None:
    names = {
        name
        for path in KIOSK.rglob("*.py")
        for name in NAMED.findall(path.read_text(encoding="utf-8"))
    }
    assert names - KNOWN == set(), "a logger was renamed or added: add it here on purpose"


def test_moved_modules_name_their_logger_instead_of_taking_the_new_path() -> None:
    """__name__ would carry the new package path (kiosk.terminal..., kiosk.backend.desk...)."""
    moved = ("terminal", "desk", "library", "privacy", "reports", "api")
    wrong = [
        str(path.relative_to(KIOSK))
        for path in KIOSK.rglob("*.py")
        if "getLogger(__name__)" in path.read_text(encoding="utf-8")
        and any(part in moved for part in path.relative_to(KIOSK).parts)
    ]
    assert not wrong
