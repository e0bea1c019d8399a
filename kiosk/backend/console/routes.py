"""Puts the console into the backend app: its pages, static files and error pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from kiosk.backend.console import (
    login,
    pages_admin,
    pages_patrons,
    pages_reports,
    pages_settings,
    pages_usage,
    uploads,
)
from kiosk.backend.console.web import (
    HERE,
    PREFIX,
    Console,
    Forbidden,
    NotSignedIn,
    console_of,
    render,
    to_login,
)
from kiosk.backend.desk.checkins import CheckinDesk


def install_console(app: FastAPI, desk: CheckinDesk, clock: Callable[[], dt.datetime]) -> None:
    app.state.console = Console(desk.engine, desk.settings, clock, desk, app.state.in_force)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    for router in (
        login.router,
        pages_reports.router,
        pages_patrons.router,
        pages_usage.router,
        uploads.router,
        pages_admin.router,
        pages_settings.router,
    ):
        app.include_router(router, include_in_schema=False)

    async def not_signed_in(request: Request, _: Exception) -> Response:
        return to_login(request)

    async def forbidden(request: Request, exc: Exception) -> Response:
        reason = str(exc)
        return render(console_of(request), request, "forbidden.html", None, 403, reason=reason)

    async def no_such_page(request: Request, rest: str) -> Response:
        """Any other /staff/... path: the console's own page, not the API's JSON."""
        return render(console_of(request), request, "not_found.html", None, 404)

    app.add_api_route(
        f"{PREFIX}/{{rest:path}}", no_such_page, methods=["GET", "POST"], include_in_schema=False
    )
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(Forbidden, forbidden)
