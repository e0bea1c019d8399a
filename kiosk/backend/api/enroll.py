"""POST /kiosks/enroll: a new kiosk trades a one-time code for its token (no bearer token)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from kiosk.backend import enrollment
from kiosk.backend.api.auth import RateLimited
from kiosk.backend.api.deps import ClockDep, EngineDep, from_state
from kiosk.backend.api.errors import error_response
from kiosk.backend.api.limits import SharedLimit, shared_limit
from kiosk.backend.db import write_session
from kiosk.config import BackendSettings
from kiosk.protocol import API_PREFIX, EnrollRequest, EnrollResponse, ErrorCode, ErrorEnvelope

log = logging.getLogger("kiosk.backend.enrollment")
router = APIRouter(prefix=API_PREFIX)
ENROLL_PATH = f"{API_PREFIX}/kiosks/enroll"
# Wrong codes per client address before it waits (the limit's span: ENROLL_FAILURE_SPAN).
ENROLL_FAILURES = 5
ENROLL_FAILURE_SPAN = 900.0

REFUSALS = {
    "wrong": (403, ErrorCode.enrollment_code_wrong),
    "used": (410, ErrorCode.enrollment_code_used),
    "expired": (410, ErrorCode.enrollment_code_expired),
}
# (session, username, address, action, detail, now): the console's audit log, given by the app.
AuditWriter = Callable[..., None]
FailuresDep = Annotated[SharedLimit, Depends(from_state("enrollment_failures"))]
AuditDep = Annotated[AuditWriter, Depends(from_state("record_audit"))]


def _documented() -> dict[int | str, dict[str, Any]]:
    described = {
        403: "`enrollment_code_wrong`: no such code (or it was revoked)",
        410: "`enrollment_code_used` or `enrollment_code_expired` (codes live 24 h, one use)",
        413: "`payload_too_large`",
        422: "`invalid_request`: the code is not eight letters and digits",
        429: f"`rate_limited`: {ENROLL_FAILURES} wrong codes from this address; see Retry-After",
        500: "`internal_error`",
    }
    return {code: {"model": ErrorEnvelope, "description": text} for code, text in described.items()}


@router.post(
    "/kiosks/enroll", status_code=201, response_model=EnrollResponse, responses=_documented()
)
def enroll(
    request: Request,
    body: EnrollRequest,
    engine: EngineDep,
    clock: ClockDep,
    failures: FailuresDep,
    record_audit: AuditDep,
) -> JSONResponse:
    """Registers the code's kiosk with a new token (shown once) and uses the code up; a wrong,
    used or expired code changes nothing."""
    address = request.client.host if request.client else "-"
    wait = failures.waiting(address)
    if wait is not None:
        return _too_many(wait)
    now = clock()
    try:
        with write_session(engine) as session:
            row, token = enrollment.redeem(session, body.code, now)
            detail = f"kiosk={row.kiosk_id} location={row.location or '-'} code={row.id}"
            record_audit(session, "-", address, "kiosk.enrolled", detail, now)
    except enrollment.CodeRefused as refused:
        try:
            failures.take(address)
        except RateLimited as exc:
            return _too_many(exc.retry_after)
        log.info("enrollment refused from %s: %s", address, refused.reason)
        status, code = REFUSALS[refused.reason]
        return error_response(status, code, str(refused))
    log.info("kiosk %s enrolled from %s", row.kiosk_id, address)
    answer = EnrollResponse(kiosk_id=row.kiosk_id, location=row.location, token=token)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)


def _too_many(seconds: int) -> JSONResponse:
    return error_response(
        429,
        ErrorCode.rate_limited,
        f"too many wrong enrollment codes; retry after {seconds} s",
        {"Retry-After": str(seconds)},
    )


def install_enrollment(
    app: FastAPI, backend: BackendSettings, engine: Engine, record_audit: AuditWriter
) -> None:
    """The route, its limit on wrong codes per address, and the audit log it writes to."""
    app.include_router(router)
    app.state.enrollment_failures = shared_limit(
        backend, engine, "enroll-failure:", ENROLL_FAILURES, ENROLL_FAILURE_SPAN
    )
    app.state.record_audit = record_audit
