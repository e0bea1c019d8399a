"""Opening the kiosk's outbox file: a damaged one is set aside and a fresh one started."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from kiosk.terminal.outbox import Outbox

log = logging.getLogger("kiosk.outbox_file")

SET_ASIDE_PATTERN = "outbox.corrupt-*.sqlite3"


def outbox_damage(path: Path) -> str | None:
    """Why the outbox file at `path` cannot be used, or None when it can (or is absent)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        db = sqlite3.connect(path, timeout=10.0)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
            db.execute("SELECT count(*) FROM outbox").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:  # not a database, malformed, no outbox table
        return str(exc)
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return "; ".join(problems[:3]) or None


def set_aside_outboxes(path: Path) -> list[Path]:
    """Damaged outbox files set aside next to `path`, oldest first."""
    return sorted(path.parent.glob(SET_ASIDE_PATTERN))


def open_outbox(path: Path | str) -> Outbox:
    """The outbox at `path`. A damaged file is renamed `outbox.corrupt-<UTC time>.sqlite3`
    (with its -wal/-shm), logged, and a fresh outbox starts, so the kiosk still starts;
    the visits in the old file were not sent and stay there for whoever looks into it."""
    path = Path(path)
    damage = outbox_damage(path)
    if damage is not None:
        aside = _set_aside(path)
        log.error(
            "outbox %s is damaged (%s): moved aside as %s, a fresh outbox starts; "
            "visits kept in the old file were not sent",
            path,
            damage,
            aside.name,
        )
    return Outbox(path)


def _set_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"outbox.corrupt-{stamp}.sqlite3")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"outbox.corrupt-{stamp}-{number}.sqlite3")
    path.rename(aside)
    aside.chmod(0o600)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    return aside
