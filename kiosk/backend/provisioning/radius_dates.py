"""Dates as FreeRADIUS's rlm_expiration reads and writes them ("28 Nov 2026 21:30:00")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def freeradius_date(moment: dt.datetime, zone: ZoneInfo | None) -> str:
    """`moment` as rlm_expiration reads it: "28 Nov 2026 21:30:00", wall time in `zone` (the
    server's own zone when None), because FreeRADIUS converts it with mktime()."""
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return f"{local.day:02d} {MONTHS[local.month - 1]} {local.year} {local:%H:%M:%S}"


def parse_freeradius_date(text: str, zone: ZoneInfo | None) -> dt.datetime | None:
    """The inverse of freeradius_date (also a bare Unix time, which FreeRADIUS accepts too);
    None for anything else."""
    text = text.strip()
    if text.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    for pattern in ("%d %b %Y %H:%M:%S", "%b %d %Y %H:%M:%S", "%d %b %Y", "%b %d %Y"):
        try:
            naive = _strptime_english(text, pattern)
        except ValueError:
            continue
        local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
        return local.astimezone(dt.UTC)
    return None


def _strptime_english(text: str, pattern: str) -> dt.datetime:
    # strptime's %b follows the locale; swap the month name for its number first.
    words = text.split()
    for i, word in enumerate(words):
        if word[:3].title() in MONTHS:
            words[i] = str(MONTHS.index(word[:3].title()) + 1)
            return dt.datetime.strptime(" ".join(words), pattern.replace("%b", "%m"))
    raise ValueError("no month name")
