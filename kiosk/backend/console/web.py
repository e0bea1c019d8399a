"""The console's plumbing: templates, the signed-in staff member, CSRF and HTML answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from kiosk.backend.console import audit
from kiosk.backend.console.i18n import LANGUAGE_COOKIE, Translate, choose_language, translator
from kiosk.backend.console.sessions import COOKIE, StaffSession, csrf_ok, load_session
from kiosk.backend.db import write_session
from kiosk.backend.desk.checkins import CheckinDesk
from kiosk.backend.steering.in_force import SettingsInForce
from kiosk.config import GuestbookField, Settings

HERE = Path(__file__).resolve().parent
PREFIX = "/staff"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class NotSignedIn(Exception):
    """No live session: the page sends the browser to the login form."""


class Forbidden(Exception):
    """Signed in, but not allowed (role) or a changing request without its CSRF token."""


@dataclass
class Console:
    """What every console page needs: the database, settings and a clock."""

    engine: Engine
    settings: Settings
    clock: Callable[[], dt.datetime]
    desk: CheckinDesk
    # The backend's settings in force: config.toml with the newest steered version put in.
    in_force: SettingsInForce

    def current(self) -> Settings:
        """The settings as Pengaturan last saved them (library, guestbook, guests...) over
        config.toml's: what the reports name and count. Asked of the database on every call,
        so a page after a save shows it (and the desk follows at once too)."""
        return self.in_force.refresh(at_once=True)

    @property
    def choice_fields(self) -> list[GuestbookField]:
        return [f for f in self.current().guestbook.fields if f.kind == "choice"]

    @property
    def choice_keys(self) -> list[str]:
        return [field.key for field in self.choice_fields]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.backend.timezone)

    def today(self) -> dt.date:
        return self.clock().astimezone(self.timezone).date()

    def local(self, moment: dt.datetime | None) -> str:
        if moment is None:
            return "-"
        return moment.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M")


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def address(request: Request) -> str:
    return request.client.host if request.client else "-"


def language_of(request: Request) -> str:
    return choose_language(request.cookies.get(LANGUAGE_COOKIE))


def staff_of(console: Console, request: Request, *, admin: bool = False) -> StaffSession:
    with write_session(console.engine) as session:
        staff = load_session(session, request.cookies.get(COOKIE), console.clock())
    if staff is None:
        raise NotSignedIn()
    if admin and not staff.is_admin:
        raise Forbidden("admin")
    return staff


def changing(console: Console, request: Request, csrf: str, *, admin: bool = False) -> StaffSession:
    """The signed-in member behind a POST that carries the session's CSRF token."""
    staff = staff_of(console, request, admin=admin)
    if not csrf_ok(staff.csrf, csrf):
        raise Forbidden("csrf")
    return staff


def log_change(
    console: Console, request: Request, staff: StaffSession, action: str, detail: str
) -> None:
    with write_session(console.engine) as session:
        audit.record(session, staff.username, address(request), action, detail, console.clock())


def render(
    console: Console,
    request: Request,
    template: str,
    staff: StaffSession | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = language_of(request)
    t: Translate = translator(language)
    page = _templates.get_template(template).render(
        t=t,
        lang=language,
        staff=staff,
        path=request.url.path,
        here=quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")),
        library=console.current().library.name,
        local=console.local,
        **context,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return response


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def to_login(request: Request) -> Response:
    """To the login form, then back: to this page with its query, or, for a form sent after
    the session ended (a POST cannot be repeated by a redirect), to the page it was on."""
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_host = referer.netloc in ("", request.headers.get("host", ""))
        back = referer.path + (f"?{referer.query}" if referer.query else "")
        if not same_host or not referer.path.startswith(PREFIX + "/"):
            back = PREFIX + "/"
    return see_other(f"{PREFIX}/login?next={quote(back, safe='/')}")
