"""Signing in and out of the console, and switching its language."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kiosk.backend.console import audit
from kiosk.backend.console.accounts import LoginRefused, authenticate
from kiosk.backend.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from kiosk.backend.console.sessions import COOKIE, IDLE_TIMEOUT, close_session, open_session
from kiosk.backend.console.web import (
    PREFIX,
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


router = APIRouter(prefix=PREFIX)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    console = console_of(request)
    try:
        staff_of(console, request)
        return see_other(_safe_next(next))
    except NotSignedIn:
        pass
    return render(console, request, "login.html", None, errors=[], username="", next=next)


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    console = console_of(request)
    now = console.clock()
    name = username.strip().lower()
    errors: list[str] = []
    if not name:
        errors.append("login.error.username_missing")
    if not password:
        errors.append("login.error.password_missing")
    if errors:
        return render(
            console, request, "login.html", None, 400, errors=errors, username=name, next=next
        )
    with write_session(console.engine) as session:
        outcome = authenticate(session, name, password, now)
        if isinstance(outcome, LoginRefused):
            secret = ""
        else:
            secret = open_session(session, outcome.id, address(request), now)
            audit.record(session, name, address(request), "login", "", now)
    if isinstance(outcome, LoginRefused):
        log.info(
            "staff login refused: user=%r reason=%s from=%s", name, outcome.reason, address(request)
        )
        until = console.local(outcome.locked_until) if outcome.locked_until else ""
        return render(
            console,
            request,
            "login.html",
            None,
            401 if outcome.reason == "wrong" else 403,
            errors=[f"login.error.{outcome.reason}"],
            locked_until=until,
            username=name,
            next=next,
        )
    response = see_other(_safe_next(next))
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(IDLE_TIMEOUT.total_seconds()) * 16,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
    )
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


@router.get("/language/{language}")
def language(request: Request, language: str, next: str = "") -> Response:
    response = see_other(_safe_next(next))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, path=PREFIX, samesite="strict"
        )
    return response
