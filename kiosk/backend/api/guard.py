"""The outermost ASGI layer: body size, bearer token, rate limits, last-resort 500, access log."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import anyio.to_thread
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from kiosk.backend.api.auth import RateLimited, TokenCheck, Unauthorized, token_digest, token_id
from kiosk.backend.api.errors import error_response
from kiosk.backend.api.limits import DatabaseCounts, SharedLimit, shared_limit
from kiosk.backend.api.member_probing import PROBING_PATHS, SPAN_SECONDS, UnknownMemberThrottle
from kiosk.backend.metrics import DATABASE_ERRORS, REQUEST_SECONDS, route_label
from kiosk.config import BackendSettings
from kiosk.protocol import API_PREFIX, ErrorCode

log = logging.getLogger("kiosk.backend")
# On every answer, API, console pages, redirects and static files alike.
EVERY_RESPONSE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
access_log = logging.getLogger("kiosk.backend.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATH = f"{API_PREFIX}/health"
# Answered without a bearer token: health, and a new kiosk trading its enrollment code (which
# has its own limit on wrong codes per address).
OPEN_PATHS = frozenset({HEALTH_PATH, f"{API_PREFIX}/kiosks/enroll"})
CONSOLE_MAX_BODY = 17 * 1024 * 1024  # a 16 MB member file and its form


class RequestGuard:
    """Outermost layer: body size limit, bearer token and rate limit for /api/v1 (health
    and enrollment excepted), an `internal_error` envelope for anything unhandled, and one
    log line per request. Auth comes first so a request without a token learns nothing else."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        tokens: TokenCheck,
        limiter: SharedLimit,
        failures: SharedLimit,
        unknown_members: UnknownMemberThrottle,
        body_seconds: float = 30.0,
        admission_waits: bool = True,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.console_max_body = CONSOLE_MAX_BODY
        self.tokens = tokens
        self.limiter = limiter
        # Failed authentication per client address: guessing tokens earns 429, not answers.
        self.failures = failures
        # A run of unknown member numbers per token: harvesting names earns 429.
        self.unknown_members = unknown_members
        self.body_seconds = body_seconds  # a body dripped slower than this is refused
        self.admission_waits = admission_waits  # does admitting a request do I/O?

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 0}
        caller = "-"

        tried = {"digest": "", "caller": "-"}  # the admitted token, once known

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = int(message["status"])
                message["headers"] = [*message.get("headers", []), *EVERY_RESPONSE_HEADERS]
                if tried["digest"] and state["status"] == 404:
                    # Counted before the client reads the 404: its next number meets the
                    # pause if this one was the last allowed.
                    await anyio.to_thread.run_sync(
                        self.unknown_members.answered,
                        scope.get("path", ""),
                        tried["digest"],
                        tried["caller"],
                        404,
                    )
            await send(message)

        async def reply(response: JSONResponse) -> None:
            await response(scope, receive, send_logged)

        try:
            path: str = scope.get("path", "")
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            digest = ""
            if path.startswith(API_PREFIX + "/") and path not in OPEN_PATHS:
                if self.admission_waits:  # limits counted in the database: off the loop
                    caller, digest, kiosk, refusal = await anyio.to_thread.run_sync(
                        self._admit, scope, headers
                    )
                else:  # this process's counts: microseconds, no thread hop
                    caller, digest, kiosk, refusal = self._admit(scope, headers)
                if refusal is not None:
                    await reply(refusal)
                    return
                scope.setdefault("state", {})["token_digest"] = digest
                scope["state"]["token_kiosk"] = kiosk
                tried.update(digest=digest, caller=caller)
            body_receive = await self._buffered_body(scope, receive, headers)
            if isinstance(body_receive, JSONResponse):
                await reply(body_receive)
                return
            if body_receive is None:  # the client went away while sending
                return
            await self.app(scope, body_receive, send_logged)
        except Exception as exc:  # the last net: no stack trace ever reaches a client
            if isinstance(exc, sa.exc.SQLAlchemyError):
                DATABASE_ERRORS.inc()
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
            elapsed = time.perf_counter() - started
            REQUEST_SECONDS.labels(scope.get("method", "-"), route_label(scope)).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms caller=%s",
                scope.get("method"),
                scope.get("path"),
                state["status"] or "-",
                elapsed * 1000,
                caller,
            )

    def _admit(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[str, str, str | None, JSONResponse | None]:
        """The caller's token id, digest and bound kiosk id, or the 401/429 that refuses
        the request.

        An address over its failed-login limit is refused whatever token it sends. A known
        token then passes its own rate and, on a probing path, its unknown-member pause: on
        PostgreSQL all three in one statement (SharedLimit.take_unless)."""
        address = (scope.get("client") or ("-", 0))[0]
        try:
            token = self.tokens.verify(headers.get("authorization"))
        except Unauthorized as exc:
            try:
                self.failures.take(address)
            except RateLimited as blocked:
                return "-", "", None, too_many(blocked)
            if self.failures.waiting(address) is not None:  # that was the last one
                log.warning("failed authentication limit reached for %s", address)
            return (
                "-",
                "",
                None,
                error_response(
                    401, ErrorCode.unauthorized, str(exc), {"WWW-Authenticate": "Bearer"}
                ),
            )
        digest = token_digest(token)
        checks = [(self.failures, address)]
        probing = scope["path"] in PROBING_PATHS
        if probing:
            checks.append((self.unknown_members.limit, digest))
        try:
            waits = self.limiter.take_unless(digest, checks)
        except RateLimited as exc:
            return "-", "", None, too_many(exc)
        if waits[0] is not None:
            return "-", "", None, too_many(RateLimited(waits[0]))
        paused = waits[1] if probing else None
        kiosk = self.tokens.kiosk_of(token)
        return token_id(token), digest, kiosk, self.unknown_members.refusal_for(paused)

    async def _buffered_body(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> Receive | JSONResponse | None:
        """A receive that replays the whole body, read up to the size limit; the 413 past
        it; None if the client disconnected."""
        # The console takes member CSV files; the kiosk API keeps its small limit.
        path: str = scope.get("path", "")
        limit = self.console_max_body if path.startswith("/staff/") else self.max_body

        def too_large() -> JSONResponse:
            return error_response(
                413, ErrorCode.payload_too_large, f"body larger than {limit} bytes"
            )

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_large()
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return receive
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.body_seconds) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return too_large()
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            log.info(
                "body of %s not complete in %.0f s: refused", scope.get("path"), self.body_seconds
            )
            return error_response(
                408, ErrorCode.request_timeout, f"body not complete in {self.body_seconds:.0f} s"
            )
        body = b"".join(chunks)
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay_body


def too_many(exc: RateLimited) -> JSONResponse:
    return error_response(
        429, ErrorCode.rate_limited, str(exc), {"Retry-After": str(exc.retry_after)}
    )


def install_request_guard(
    app: FastAPI, backend: BackendSettings, engine: Engine, tokens: TokenCheck
) -> None:
    """The guard as the app's outermost layer, with limits counted where the whole backend
    sees them (`[backend] shared_limits`); the unknown-member throttle also in app.state
    (GET /stats/today tells a kiosk its pause)."""

    def limit(namespace: str, per_minute: int) -> SharedLimit:
        return shared_limit(backend, engine, namespace, per_minute)

    token_limit = limit("token:", backend.rate_limit_per_minute)
    where = "in the database" if isinstance(token_limit.store, DatabaseCounts) else "here"
    log.info(
        "worker %d: %d requests a minute per token, counted %s (%d worker(s))",
        os.getpid(),
        token_limit.limit,
        where,
        backend.workers,
    )

    unknown_members = UnknownMemberThrottle(
        shared_limit(
            backend, engine, "unknown-member:", backend.unknown_members_per_10_minutes, SPAN_SECONDS
        )
    )
    app.state.unknown_members = unknown_members
    app.add_middleware(
        RequestGuard,
        max_body=backend.max_body_bytes,
        tokens=tokens,
        limiter=token_limit,
        failures=limit("auth-failure:", backend.auth_failures_per_minute),
        unknown_members=unknown_members,
        body_seconds=3 * backend.header_timeout_seconds,
        # Registered kiosks' tokens are looked up in the database only when not configured;
        # the limits' own counts decide whether admitting waits on I/O.
        admission_waits=isinstance(token_limit.store, DatabaseCounts),
    )
