"""Signing in and out of the console, and switching its language."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kiosk.backend.console import audit
from kiosk.backend.console.accounts import (
    AccountError,
    LoginRefused,
    authenticate,
    change_own_password,
)
from kiosk.backend.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from kiosk.backend.console.sessions import (
    COOKIE,
    close_cookie_session,
    close_session,
    csrf_ok,
    open_session,
)
from kiosk.backend.console.web import (
    PREFIX,
    Console,
    Forbidden,
    NotSignedIn,
    address,
    changing,
    console_of,
    render,
    see_other,
    staff_of,
)
from kiosk.backend.db import write_session

log = logging.getLogger("kiosk.backend.console")


def _safe_next(target: str | None) -> str:
    # Only a path of the console itself: never an open redirect to another host.
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return PREFIX + "/"


# The login form's own CSRF token (there is no session yet): a SameSite=Strict cookie and
# the same value in the form, so a page on another site cannot sign a browser in.
LOGIN_COOKIE = "kiosk_login"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _same_origin(request: Request) -> bool:
    """Origin (or, without it, Referer) names this host: browsers send Origin on every POST,
    and a form posted from another site names that site."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return True  # not a browser (curl, scripts): the login token still guards it
    # Host names only: nginx's `Host $host` drops the port the browser's Origin names.
    hosts = {
        urlsplit("//" + request.headers.get(header, "")).hostname
        for header in ("host", "x-forwarded-host")
    }
    return urlsplit(claimed).hostname in hosts - {None, ""}


def _login_page(
    console: Console, request: Request, status: int = 200, **context: object
) -> Response:
    # Kept while the browser has it: two tabs' login forms both stay good.
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    context = {"errors": [], "username": "", "next": "", **context}
    response = render(console, request, "login.html", None, status, login_token=token, **context)
    response.set_cookie(
        LOGIN_COOKIE, token, path=PREFIX, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


router = APIRouter(prefix=PREFIX)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    console = console_of(request)
    try:
        staff_of(console, request)
        return see_other(_safe_next(next))
    except NotSignedIn:
        pass
    return _login_page(console, request, next=next)


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
    login_token: str = Form(""),
) -> Response:
    console = console_of(request)
    if not _same_origin(request):
        log.warning("staff login refused: posted from another site, from=%s", address(request))
        raise Forbidden("origin")
    now = console.clock()
    name = username.strip().lower()
    errors: list[str] = []
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), login_token):
        errors.append("login.error.expired")
    if not name:
        errors.append("login.error.username_missing")
    if not password:
        errors.append("login.error.password_missing")
    if errors:
        return _login_page(console, request, 400, errors=errors, username=name, next=next)
    with write_session(console.engine) as session:
        outcome = authenticate(session, name, password, address(request), now)
        if isinstance(outcome, LoginRefused):
            secret = ""
        else:
            # One session per browser: signing in (as anyone) ends the one this cookie held.
            close_cookie_session(session, request.cookies.get(COOKIE))
            secret = open_session(session, outcome.id, address(request), now)
            audit.record(session, name, address(request), "login", "", now)
    if isinstance(outcome, LoginRefused):
        # A mistyped name is not an account's: it stays out of the log.
        who = "(unknown)" if outcome.reason == "unknown" else repr(name)
        log.info(
            "staff login refused: user=%s reason=%s from=%s", who, outcome.reason, address(request)
        )
        # One answer for every refusal: it says nothing of which names exist or are held back.
        return _login_page(
            console, request, 401, errors=["login.error.refused"], username=name, next=next
        )
    response = see_other(_safe_next(next))
    _session_cookie(response, request, secret)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf)
    with write_session(console.engine) as session:
        close_session(session, staff.key)
        audit.record(session, staff.username, address(request), "logout", "", console.clock())
    response = see_other(f"{PREFIX}/login")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _session_cookie(response: Response, request: Request, secret: str) -> None:
    # No max-age: the cookie ends with the browser (a shared desk PC), the session itself
    # after 30 idle minutes or 12 hours.
    response.set_cookie(
        COOKIE, secret, path=PREFIX, httponly=True, samesite="strict", secure=_secure(request)
    )


@router.get("/password")
def password_form(request: Request, notice: str = "") -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    return render(console, request, "password.html", staff, errors=[], notice=notice)


@router.post("/password")
def change_password(
    request: Request,
    csrf: str = Form(""),
    current: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
) -> Response:
    """The signed-in member's own password: every session of the account ends (others'
    browsers too), this browser gets a fresh one."""
    console = console_of(request)
    staff = changing(console, request, csrf)
    now = console.clock()
    error = "password.error.differ" if new != again else ""
    if not error:
        try:
            with write_session(console.engine) as session:
                if change_own_password(
                    session, staff.username, current, new, address(request), now
                ):
                    secret = open_session(session, staff.account_id, address(request), now)
                    audit.record(
                        session, staff.username, address(request), "account.password", "", now
                    )
                else:
                    error = "password.error.current"
        except AccountError as exc:
            error = exc.key
    if error:
        return render(console, request, "password.html", staff, 400, errors=[error], notice="")
    response = see_other(f"{PREFIX}/password?notice=password.changed")
    _session_cookie(response, request, secret)
    return response


@router.get("/language/{language}")
def language(request: Request, language: str, next: str = "") -> Response:
    response = see_other(_safe_next(next))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, path=PREFIX, samesite="strict"
        )
    return response
