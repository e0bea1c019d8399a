"""Patrons' internet sessions (radacct: usernames, MAC and IP addresses) under the privacy rules:
purged after the retention, listed in a member's export, removed by an erasure."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from kiosk.backend.provisioning.base import ProvisioningUnavailable
from kiosk.backend.provisioning.usage import RecordOfUse

log = logging.getLogger("kiosk.backend.privacy")


def purge_sessions(record: RecordOfUse | None, cutoff: dt.datetime, *, dry_run: bool) -> int:
    """Sessions older than `cutoff` deleted (counted only, for a dry run); a RADIUS database
    that cannot be reached is logged and left for the next purge."""
    if record is None:
        return 0
    try:
        return record.purge(cutoff, dry_run=dry_run)
    except (SQLAlchemyError, ProvisioningUnavailable) as exc:
        log.warning("privacy purge: internet sessions left for the next purge: %s", _reason(exc))
        return 0


def export_sessions(
    record: RecordOfUse | None, usernames: Iterable[str], now: dt.datetime
) -> list[dict[str, Any]] | None:
    """The sessions of these usernames as the export lists them (None: no record of use)."""
    if record is None:
        return None
    return [
        {
            "username": s.username,
            "started_at": s.started_at.isoformat() if s.started_at else None,
            "stopped_at": s.stopped_at.isoformat() if s.stopped_at else None,
            "seconds": s.seconds,
            "device_mac": s.mac,
            "ip_address": s.ip,
            "nas": s.nas,
            "downloaded_octets": s.downloaded,
            "uploaded_octets": s.uploaded,
        }
        for s in record.of_users(usernames, now)
    ]


def erase_sessions(record: RecordOfUse | None, usernames: Iterable[str]) -> int | None:
    """Delete the sessions of these usernames; None when the RADIUS database cannot be reached
    now (logged: the purge removes them at the retention)."""
    if record is None:
        return 0
    try:
        return record.erase(usernames)
    except SQLAlchemyError as exc:
        log.warning("privacy erase: internet sessions not removed now: %s", _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig is not None else str(exc) or type(exc).__name__).splitlines()[0]
