"""Admin pages of the console: Kiosks, Staff accounts (Staf) and the Audit log."""

from __future__ import annotations

import re

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kiosk.backend import enrollment, kiosks
from kiosk.backend.console import accounts, audit
from kiosk.backend.console.login_limits import forget_name, held_back_names
from kiosk.backend.console.sessions import close_account_sessions
from kiosk.backend.console.web import (
    PREFIX,
    changing,
    console_of,
    log_change,
    render,
    see_other,
    staff_of,
)
from kiosk.backend.db import read_session, write_session
from kiosk.backend.steering import versions
from kiosk.backend.steering.locations import (
    LocationError,
    all_locations,
    kiosk_locations,
    place_kiosk,
)
from kiosk.protocol import LOCATION_PATTERN

_KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_LOCATION = re.compile(LOCATION_PATTERN)


router = APIRouter(prefix=PREFIX)


def kiosk_page(request: Request, status: int = 200, **extra: object) -> Response:
    console = console_of(request)
    staff = staff_of(console, request, admin=True)
    current = versions.current(console.engine, console.settings, console.clock())
    with read_session(console.engine) as session:
        rows = kiosks.all_kiosks(session)
        places = all_locations(session)
        placed = kiosk_locations(session)
        codes = enrollment.pending(session, console.clock())
    context: dict[str, object] = {
        "errors": [],
        "new_token": "",
        "new_id": "",
        "notice": "",
        "new_code": "",
        "code_id": "",
        "code_location": "",
    }
    context.update(extra)
    return render(
        console,
        request,
        "kiosks.html",
        staff,
        status,
        rows=rows,
        codes=codes,
        backend_url=str(request.base_url).rstrip("/"),
        now=console.clock(),
        current_version=current.number,
        locations=places,
        placed=placed,
        **context,
    )


@router.get("/kiosks")
def kiosk_list(request: Request, notice: str = "") -> Response:
    return kiosk_page(request, notice=notice)


@router.post("/kiosks/register")
def register(
    request: Request, csrf: str = Form(""), kiosk_id: str = Form(""), name: str = Form("")
) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    kiosk_id = kiosk_id.strip().lower()
    if not _KIOSK_ID.match(kiosk_id):
        return kiosk_page(request, 400, errors=["kiosks.error.id"], new_id=kiosk_id)
    try:
        with write_session(console.engine) as session:
            token = kiosks.register(session, kiosk_id, name.strip()[:200], console.clock())
    except kiosks.KioskExists:
        return kiosk_page(request, 400, errors=["kiosks.error.exists"], new_id=kiosk_id)
    log_change(console, request, staff, "kiosk.register", f"kiosk={kiosk_id}")
    return kiosk_page(request, new_token=token, new_id=kiosk_id)


@router.post("/kiosks/code")
def make_code(
    request: Request, csrf: str = Form(""), kiosk_id: str = Form(""), location: str = Form("")
) -> Response:
    """A one-time enrollment code for a new kiosk, shown once on the page it answers."""
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    kiosk_id, location = kiosk_id.strip().lower(), location.strip().lower()
    errors = [] if _KIOSK_ID.match(kiosk_id) else ["kiosks.error.code_id"]
    if not _LOCATION.match(location):
        errors.append("kiosks.error.location")
    if errors:
        return kiosk_page(request, 400, errors=errors, code_id=kiosk_id, code_location=location)
    try:
        with write_session(console.engine) as session:
            code, row = enrollment.make_code(
                session, kiosk_id, location, staff.username, console.clock()
            )
            code_ref = row.id
    except kiosks.KioskExists:
        return kiosk_page(
            request, 400, errors=["kiosks.error.exists"], code_id=kiosk_id, code_location=location
        )
    detail = f"kiosk={kiosk_id} location={location or '-'} code={code_ref}"
    log_change(console, request, staff, "kiosk.code_made", detail)
    return kiosk_page(request, new_code=code, code_id=kiosk_id, code_location=location)


@router.post("/kiosks/code/revoke")
def revoke_code(request: Request, csrf: str = Form(""), code_id: int = Form(0)) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    with write_session(console.engine) as session:
        row = enrollment.revoke_code(session, code_id, console.clock())
        kiosk_id = row.kiosk_id if row is not None else "-"
    log_change(console, request, staff, "kiosk.code_revoked", f"kiosk={kiosk_id} code={code_id}")
    return see_other(f"{PREFIX}/kiosks?notice=kiosks.code_revoked")


@router.post("/kiosks/revoke")
def revoke(request: Request, csrf: str = Form(""), kiosk_id: str = Form("")) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    with write_session(console.engine) as session:
        done = kiosks.revoke(session, kiosk_id, console.clock())
    log_change(console, request, staff, "kiosk.revoke", f"kiosk={kiosk_id} done={done}")
    return see_other(f"{PREFIX}/kiosks?notice=kiosks.revoked")


@router.post("/kiosks/rename")
def rename(
    request: Request, csrf: str = Form(""), kiosk_id: str = Form(""), name: str = Form("")
) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    if not name.strip():
        return kiosk_page(request, 400, errors=["kiosks.error.name"])
    with write_session(console.engine) as session:
        kiosks.rename(session, kiosk_id, name.strip()[:200])
    log_change(
        console, request, staff, "kiosk.rename", f"kiosk={kiosk_id} name={name.strip()[:200]}"
    )
    return see_other(f"{PREFIX}/kiosks?notice=kiosks.renamed")


@router.post("/kiosks/service")
def service(
    request: Request, csrf: str = Form(""), kiosk_id: str = Form(""), in_service: str = Form("")
) -> Response:
    """Put a kiosk out of service or back; it follows at its next settings fetch."""
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    serving = in_service == "1"
    with write_session(console.engine) as session:
        done = kiosks.set_in_service(session, kiosk_id, serving)
    detail = f"kiosk={kiosk_id} in_service={serving} done={done}"
    log_change(console, request, staff, "kiosk.service", detail)
    return see_other(f"{PREFIX}/kiosks?notice=kiosks.service_changed")


@router.post("/kiosks/place")
def place(
    request: Request, csrf: str = Form(""), kiosk_id: str = Form(""), location: str = Form("")
) -> Response:
    """Move a kiosk to a location (its room code, Location_Id and overrides follow)."""
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    try:
        with write_session(console.engine) as session:
            place_kiosk(session, kiosk_id, location)
    except LocationError as exc:
        return kiosk_page(request, 400, errors=[exc.key])
    log_change(console, request, staff, "kiosk.place", f"kiosk={kiosk_id} location={location}")
    return see_other(f"{PREFIX}/kiosks?notice=kiosks.placed")


def account_page(request: Request, status: int = 200, **extra: object) -> Response:
    console = console_of(request)
    staff = staff_of(console, request, admin=True)
    with read_session(console.engine) as session:
        rows = accounts.all_accounts(session)
        held = held_back_names(session, [row.username for row in rows], console.clock())
    context: dict[str, object] = {"errors": [], "notice": "", "username": "", "held": held}
    context.update(extra)
    return render(
        console,
        request,
        "accounts.html",
        staff,
        status,
        rows=rows,
        roles=accounts.ROLES,
        **context,
    )


@router.get("/accounts")
def account_list(request: Request, notice: str = "") -> Response:
    return account_page(request, notice=notice)


@router.post("/accounts/add")
def add(
    request: Request,
    csrf: str = Form(""),
    username: str = Form(""),
    password: str = Form(""),
    role: str = Form("staff"),
) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    try:
        with write_session(console.engine) as session:
            accounts.add_account(session, username.strip().lower(), password, role, console.clock())
    except accounts.AccountError as exc:
        return account_page(request, 400, errors=[exc.key], username=username)
    log_change(
        console,
        request,
        staff,
        "account.add",
        f"username={username.strip().lower()} role={role}",
    )
    return see_other(f"{PREFIX}/accounts?notice=accounts.added")


@router.post("/accounts/disable")
def disable(
    request: Request, csrf: str = Form(""), username: str = Form(""), enable: str = Form("")
) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    if username == staff.username:
        return account_page(request, 400, errors=["accounts.error.self"])
    try:
        with write_session(console.engine) as session:
            accounts.set_disabled(session, username, not enable)
            row = accounts.find_account(session, username)
            if row is not None and not enable:
                close_account_sessions(session, row.id)
    except accounts.AccountError as exc:
        return account_page(request, 400, errors=[exc.key])
    action = "account.enable" if enable else "account.disable"
    log_change(console, request, staff, action, f"username={username}")
    return see_other(f"{PREFIX}/accounts?notice=accounts.changed")


@router.post("/accounts/reset")
def reset_password(
    request: Request, csrf: str = Form(""), username: str = Form(""), password: str = Form("")
) -> Response:
    """An admin sets someone's new password (told to them in person); it ends their sessions."""
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    try:
        with write_session(console.engine) as session:
            accounts.set_password(session, username, password)
    except accounts.AccountError as exc:
        return account_page(request, 400, errors=[exc.key])
    log_change(console, request, staff, "account.reset", f"username={username}")
    return see_other(f"{PREFIX}/accounts?notice=accounts.reset_done")


@router.post("/accounts/unlock")
def unlock(request: Request, csrf: str = Form(""), username: str = Form("")) -> Response:
    """Forget the wrong passwords typed for this name, from every address."""
    console = console_of(request)
    staff = changing(console, request, csrf, admin=True)
    with write_session(console.engine) as session:
        forget_name(session, username)
    log_change(console, request, staff, "account.unlock", f"username={username}")
    return see_other(f"{PREFIX}/accounts?notice=accounts.unlocked")


@router.get("/audit")
def audit_log(request: Request, page: int = 0) -> Response:
    console = console_of(request)
    staff = staff_of(console, request, admin=True)
    page = max(page, 0)
    with read_session(console.engine) as session:
        rows, total = audit.recent(session, page)
    return render(
        console,
        request,
        "audit.html",
        staff,
        rows=rows,
        readable=audit.readable,
        total=total,
        page=page,
        pages=max((total - 1) // 50 + 1, 1),
    )
