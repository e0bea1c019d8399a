"""The console's Internet use page (Penggunaan internet): who is online, each day's use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kiosk.backend.console.pages_reports import chosen_period, period_form
from kiosk.backend.console.web import PREFIX, Console, console_of, render, staff_of
from kiosk.backend.db import read_session
from kiosk.backend.provisioning import ProvisioningUnavailable
from kiosk.backend.provisioning.usage import (
    KINDS,
    RecordOfUse,
    day_bounds,
    days_of_use,
    patrons_of,
    record_of_use,
)

router = APIRouter(prefix=PREFIX)
PER_MEMBER = 100  # sessions on a member's page
DAY_BY_DAY = 62  # longer periods: the database's totals only (a year of radacct, quickly)


def data_size(octets: int) -> str:
    """Octets as a librarian reads them: 1.2 GB, 350 MB, 12 kB."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if octets >= size:
            return f"{octets / size:.1f} {unit}"
    return f"{octets} B"


def hours_text(seconds: int) -> str:
    """Online time as hours and minutes: 2:05."""
    minutes = seconds // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def record_of(console: Console) -> RecordOfUse | None:
    return record_of_use(console.desk.provisioner)


@router.get("/usage")
def usage(
    request: Request, period: str = "day", date: str = "", start: str = "", end: str = ""
) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    kind, chosen, error = chosen_period(console.today(), period, date, start, end)
    form = period_form(console, kind, chosen, error, date, start, end)
    context: dict[str, Any] = {
        "kinds": KINDS,
        "size": data_size,
        "hours": hours_text,
        "kind_name": console.settings.provisioning.kind,
    }
    record = record_of(console)
    if record is None:
        return render(console, request, "usage.html", staff, **form, **context, record=False)
    now = console.clock()
    zone = console.timezone
    first, end_at = day_bounds(chosen.first, chosen.last, zone)
    long = len(chosen.days) > DAY_BY_DAY
    try:
        online = record.online(now)
        sessions = [] if long else record.between(first, end_at, now)
        totals = record.totals(first, end_at, now) if long else None
        disconnects = record.disconnects()
    except ProvisioningUnavailable as exc:
        return render(
            console, request, "usage.html", staff, **form, **context, record=True,
            down=str(exc), online=[], use=None, totals=None, patrons={}, disconnects=[],
        )  # fmt: skip
    with read_session(console.engine) as session:
        patrons = patrons_of(session, {s.username for s in online + sessions})
    use = None if long else days_of_use(sessions, patrons, chosen.days, zone)
    return render(
        console, request, "usage.html", staff, **form, **context, record=True, down="",
        online=online, use=use, totals=totals, patrons=patrons, disconnects=disconnects,
        day_by_day=DAY_BY_DAY,
    )  # fmt: skip


def member_use(console: Console, usernames: set[str]) -> dict[str, Any]:
    """What a member's page shows of their internet use: their sessions (newest first) and
    the Disconnect-Requests sent for them; `use_record` False where there is no radacct."""
    record = record_of(console)
    if record is None:
        return {"use_record": False, "use_sessions": [], "disconnects": [], "use_down": ""}
    try:
        sessions = record.of_users(usernames, console.clock()) if usernames else []
        disconnects = record.disconnects(usernames, 20) if usernames else []
    except ProvisioningUnavailable as exc:
        return {"use_record": True, "use_sessions": [], "disconnects": [], "use_down": str(exc)}
    return {
        "use_record": True,
        "use_sessions": sessions[::-1][:PER_MEMBER],
        "disconnects": disconnects,
        "use_down": "",
        "size": data_size,
        "hours": hours_text,
    }
