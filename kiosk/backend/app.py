"""FastAPI application factory `create_app(settings)`: the HTTP contract of ARCHITECTURE.md."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk import __version__
from kiosk.backend import kiosks, reconciling
from kiosk.backend.auth import RateLimited, RateLimiter, TokenCheck, Unauthorized, token_id
from kiosk.backend.checkins import (
    AnswersTooLarge,
    CheckinDesk,
    ClientRefConflict,
    Clock,
    MemberNotAllowed,
    MemberNotFound,
    utc_now,
)
from kiosk.backend.console.routes import install_console
from kiosk.backend.db import (
    check_database,
    create_db_engine,
    migrate,
    read_session,
    write_session,
)
from kiosk.backend.guests import GuestDesk, GuestInternetUnavailable
from kiosk.backend.kiosks import RegisteredTokens
from kiosk.backend.library_link import LibraryUnavailable
from kiosk.backend.provisioning import ProvisioningUnavailable, build_provisioner
from kiosk.backend.provisioning.base import Provisioner
from kiosk.backend.reports import stats_for_day
from kiosk.config import ConfigError, Settings
from kiosk.protocol import (
    API_PREFIX,
    CheckinRequest,
    CheckinResponse,
    ErrorCode,
    ErrorEnvelope,
    GuestVisitRequest,
    GuestVisitResponse,
    HealthResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    LookupRequest,
    LookupResponse,
    MemberStatus,
    StatsToday,
    VisitRequest,
    VisitResponse,
    error_envelope,
)

log = logging.getLogger("kiosk.backend")
access_log = logging.getLogger("kiosk.backend.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATH = f"{API_PREFIX}/health"
CONSOLE_MAX_BODY = 8 * 1024 * 1024

_ERROR_DESCRIPTIONS = {
    401: "missing or wrong bearer token (`unauthorized`)",
    403: "expired or blocked member asking for internet (`member_expired`, `member_blocked`);"
    " a guest asking for internet when [guests] gives none or the day's vouchers are gone"
    " (`guest_internet_unavailable`)",
    404: "`member_not_found`, or `not_found` for an unknown path",
    409: "`client_ref_conflict`: the client_ref was used with another body",
    413: "`payload_too_large`: body over [backend] max_body_bytes",
    422: "`invalid_request`: malformed JSON or a wrong field (the message names it)",
    429: "`rate_limited`: see Retry-After",
    500: "`internal_error`",
    503: "`provisioning_unavailable`: the network side cannot take the credential; "
    "`library_unavailable`: the library's member database is down and the member is not "
    "in the local copy",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    every = (401, 413, 422, 429, 500, *codes)
    return {
        code: {"model": ErrorEnvelope, "description": _ERROR_DESCRIPTIONS[code]}
        for code in sorted(set(every))
    }


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_envelope(code, message), status_code=status, headers=headers)


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for error in errors[:3]:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("request body is not valid JSON")
            continue
        if kind == "missing" and not loc:
            parts.append("request body is missing")
            continue
        if not loc and kind in ("model_attributes_type", "dict_type"):
            parts.append("request body must be a JSON object (Content-Type: application/json)")
            continue
        field = ".".join(loc) or "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{field}: {message}")
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "; ".join(parts)


class RequestGuard:
    """Outermost layer: body size limit, bearer token and rate limit for /api/v1 (health
    excepted), an `internal_error` envelope for anything unhandled, and one log line per
    request. Auth comes first so a request without a token learns nothing else."""

    def __init__(
        self, app: ASGIApp, *, max_body: int, tokens: TokenCheck, limiter: RateLimiter
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.console_max_body = CONSOLE_MAX_BODY
        self.tokens = tokens
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 0}
        caller = "-"

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = int(message["status"])
            await send(message)

        async def reply(response: JSONResponse) -> None:
            await response(scope, receive, send_logged)

        try:
            path: str = scope.get("path", "")
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if path.startswith(API_PREFIX + "/") and path != HEALTH_PATH:
                try:
                    token = self.tokens.verify(headers.get("authorization"))
                    caller = token_id(token)
                    self.limiter.take(token)
                except Unauthorized as exc:
                    await reply(
                        error_response(
                            401, ErrorCode.unauthorized, str(exc), {"WWW-Authenticate": "Bearer"}
                        )
                    )
                    return
                except RateLimited as exc:
                    await reply(
                        error_response(
                            429,
                            ErrorCode.rate_limited,
                            str(exc),
                            {"Retry-After": str(exc.retry_after)},
                        )
                    )
                    return
            # The console takes member CSV files; the kiosk API keeps its small limit.
            limit = self.console_max_body if path.startswith("/staff/") else self.max_body
            too_large = error_response(
                413, ErrorCode.payload_too_large, f"body larger than {limit} bytes"
            )
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await reply(too_large)
                return
            body_receive = receive
            if scope.get("method") in ("POST", "PUT", "PATCH"):
                chunks: list[bytes] = []
                size = 0
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        await reply(too_large)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                body = b"".join(chunks)
                delivered = False

                async def replay_body() -> Message:
                    nonlocal delivered
                    if not delivered:
                        delivered = True
                        return {"type": "http.request", "body": body, "more_body": False}
                    return await receive()

                body_receive = replay_body
            await self.app(scope, body_receive, send_logged)
        except Exception as exc:  # the last net: no stack trace ever reaches a client
            log.error(
                "internal error on %s %s: %s: %s",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                exc,
            )
            if state["status"] == 0:
                await reply(error_response(500, ErrorCode.internal_error, "internal error"))
        finally:
            access_log.info(
                "%s %s %s %.1fms caller=%s",
                scope.get("method"),
                scope.get("path"),
                state["status"] or "-",
                (time.perf_counter() - started) * 1000,
                caller,
            )


def create_app(
    settings: Settings,
    *,
    run_migrations: bool = True,
    provisioner: Provisioner | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The backend app for these settings. Migrations run at start-up unless the caller
    already ran them (several workers)."""
    backend = settings.backend
    if not backend.api_tokens:
        raise ConfigError(
            "[backend] api_tokens is empty: the backend refuses to start without at least one "
            "token (16+ characters), e.g. api_tokens = [\"<python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))'>\"]"
        )
    engine = create_db_engine(backend.database_url)
    network = provisioner if provisioner is not None else build_provisioner(settings.provisioning)
    desk = CheckinDesk(engine, settings, network, clock)
    guest_desk = GuestDesk(desk)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await anyio.to_thread.run_sync(migrate, engine)
        loop_task = asyncio.create_task(
            _reconcile_forever(desk, settings.provisioning.reconcile_seconds)
        )
        drain_task = asyncio.create_task(desk.library.drain_forever(clock))
        log.info(
            "backend %s ready: database %s, provisioning %s",
            __version__,
            engine.url.render_as_string(hide_password=True),
            network.name,
        )
        try:
            yield
        finally:
            for task in (loop_task, drain_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            network.close()
            desk.library.close()
            engine.dispose()

    app = FastAPI(
        title="Kiosk credential backend",
        version=__version__,
        description=(
            "Member lookup, the electronic guestbook and Wi-Fi credentials for the library's "
            "self-service kiosks. Every endpoint but health needs `Authorization: Bearer "
            '<token>`; errors are `{"error": {"code", "message"}}`.'
        ),
        lifespan=lifespan,
    )
    app.state.desk = desk
    bearer = HTTPBearer(auto_error=False, description="one of [backend] api_tokens")
    router = APIRouter(prefix=API_PREFIX)

    # Enforced by RequestGuard (before the body is parsed); declared here for /docs. Async
    # so FastAPI does not spend a thread-pool hop on it.
    async def documented_auth(
        _: HTTPAuthorizationCredentials | None = Security(bearer),  # noqa: B008
    ) -> None:
        return None

    auth = [Depends(documented_auth)]

    @router.get(
        "/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}}
    )
    def health() -> JSONResponse:
        database = check_database(engine)
        try:
            network.check()
            provisioning = f"{network.name}: ok"
        except ProvisioningUnavailable as exc:
            provisioning = f"{network.name}: unavailable ({exc})"
        library = desk.library.health() if database == "ok" else {}
        if database != "ok":
            status, code = "error", 503
        elif provisioning.endswith(": ok") and library.get("library", ": ok").endswith(": ok"):
            status, code = "ok", 200
        else:
            status, code = "degraded", 200
        body = HealthResponse(
            status=status,
            version=__version__,
            database=database,
            provisioning=provisioning,
            time=dt.datetime.now(dt.UTC),
            **library,
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=code)

    @router.post(
        "/members/lookup",
        response_model=LookupResponse,
        dependencies=auth,
        responses=_errors(404, 503),
    )
    def lookup(body: LookupRequest) -> JSONResponse:
        # JSONResponse throughout: a returned model would be re-validated in another
        # thread-pool hop for sync endpoints.
        return JSONResponse(desk.lookup(body.card).model_dump(mode="json"))

    @router.post(
        "/checkins",
        status_code=201,
        response_model=CheckinResponse,
        dependencies=auth,
        responses={
            200: {"model": CheckinResponse, "description": "replay of the same client_ref"},
            **_errors(403, 404, 409, 503),
        },
    )
    def checkin(body: CheckinRequest) -> JSONResponse:
        outcome = desk.record(body, allow_credential=True)
        return JSONResponse(
            outcome.response.model_dump(mode="json"), status_code=200 if outcome.replay else 201
        )

    @router.post(
        "/visits",
        status_code=201,
        response_model=VisitResponse,
        dependencies=auth,
        responses={
            200: {"model": VisitResponse, "description": "replay of the same client_ref"},
            **_errors(404, 409, 503),
        },
    )
    def visit(body: VisitRequest) -> JSONResponse:
        outcome = desk.record(body, allow_credential=False)
        answer = VisitResponse(visit=outcome.response.visit)
        return JSONResponse(
            answer.model_dump(mode="json"), status_code=200 if outcome.replay else 201
        )

    @router.post(
        "/guest-visits",
        status_code=201,
        response_model=GuestVisitResponse,
        dependencies=auth,
        responses={
            200: {"model": GuestVisitResponse, "description": "replay of the same client_ref"},
            **_errors(403, 409, 503),
        },
    )
    def guest_visit(body: GuestVisitRequest) -> JSONResponse:
        response, replay = guest_desk.record(body)
        return JSONResponse(response.model_dump(mode="json"), status_code=200 if replay else 201)

    @router.get("/stats/today", response_model=StatsToday, dependencies=auth, responses=_errors())
    def stats_today() -> JSONResponse:
        with read_session(engine) as session:
            stats = stats_for_day(session, desk.today(clock()), desk.timezone)
        return JSONResponse(stats.model_dump(mode="json"))

    @router.post(
        "/kiosks/heartbeat",
        response_model=HeartbeatResponse,
        dependencies=auth,
        responses=_errors(),
    )
    def heartbeat(body: HeartbeatRequest) -> JSONResponse:
        now = clock()
        with write_session(engine) as session:
            kiosks.record_heartbeat(session, body, now)
        return JSONResponse(HeartbeatResponse(received_at=now).model_dump(mode="json"))

    app.include_router(router)
    install_console(app, desk, clock)
    _install_error_handlers(app)
    app.add_middleware(
        RequestGuard,
        max_body=backend.max_body_bytes,
        tokens=TokenCheck(backend.api_tokens, RegisteredTokens(engine)),
        limiter=RateLimiter(backend.rate_limit_per_minute),
    )
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return error_response(404, ErrorCode.not_found, "no such path", headers)
        if exc.status_code == 405:
            return error_response(
                405, ErrorCode.method_not_allowed, "method not allowed on this path", headers
            )
        if exc.status_code == 413:
            return error_response(413, ErrorCode.payload_too_large, str(exc.detail), headers)
        if exc.status_code in (400, 422):
            return error_response(422, ErrorCode.invalid_request, str(exc.detail), headers)
        if exc.status_code == 401:
            return error_response(401, ErrorCode.unauthorized, str(exc.detail), headers)
        return error_response(500, ErrorCode.internal_error, "internal error", headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(
            422, ErrorCode.invalid_request, _validation_message(list(exc.errors()))
        )

    async def domain(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, MemberNotFound):
            return error_response(404, ErrorCode.member_not_found, str(exc))
        if isinstance(exc, MemberNotAllowed):
            if exc.status is MemberStatus.blocked:
                return error_response(
                    403, ErrorCode.member_blocked, "membership is blocked: please see the desk"
                )
            return error_response(
                403, ErrorCode.member_expired, "membership has expired: please renew at the desk"
            )
        if isinstance(exc, ClientRefConflict):
            return error_response(409, ErrorCode.client_ref_conflict, str(exc))
        if isinstance(exc, GuestInternetUnavailable):
            log.info("guest internet refused: %s", exc)
            return error_response(
                403,
                ErrorCode.guest_internet_unavailable,
                "no internet for guests at this kiosk now; the desk can help",
            )
        if isinstance(exc, AnswersTooLarge):
            return error_response(422, ErrorCode.invalid_request, str(exc))
        if isinstance(exc, LibraryUnavailable):
            return error_response(
                503,
                ErrorCode.library_unavailable,
                "the library's member database does not answer and this member is not in "
                "the local copy yet",
            )
        if isinstance(exc, ProvisioningUnavailable):
            log.warning("provisioning unavailable: %s", exc)
            return error_response(
                503,
                ErrorCode.provisioning_unavailable,
                "the network cannot take a new credential now; try again shortly",
            )
        raise exc

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    for kind in (
        GuestInternetUnavailable,
        MemberNotFound,
        MemberNotAllowed,
        ClientRefConflict,
        AnswersTooLarge,
        ProvisioningUnavailable,
        LibraryUnavailable,
    ):
        app.add_exception_handler(kind, domain)


async def _reconcile_forever(desk: CheckinDesk, interval: float) -> None:
    """Every [provisioning] reconcile_seconds: make the network side match the database."""
    while True:
        await asyncio.sleep(interval)
        try:
            report = await anyio.to_thread.run_sync(
                reconciling.reconcile_once, desk.engine, desk.provisioner, desk.clock()
            )
        except ProvisioningUnavailable as exc:
            log.warning("reconcile: provisioning unavailable: %s", exc)
            continue
        except Exception as exc:  # keep the loop alive; the next round may succeed
            log.error("reconcile failed: %s: %s", type(exc).__name__, exc)
            continue
        if report is not None:
            log.info("reconcile: %s", report)


def app_from_environment() -> FastAPI:
    """Uvicorn worker factory (several workers): the config path comes in KIOSK_CONFIG."""
    import os

    from kiosk.config import load_settings
    from kiosk.logs import setup_logging

    settings = load_settings(os.environ.get("KIOSK_CONFIG") or None)
    # A spawned worker starts with no log handlers; all workers append to one file.
    setup_logging(settings.backend.log_dir, "backend")
    return create_app(settings, run_migrations=False)
