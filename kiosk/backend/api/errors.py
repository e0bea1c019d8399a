"""Maps failures to the error envelope `{"error": {"code", "message"}}` and documents them."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.backend.api.auth import WrongKiosk
from kiosk.backend.desk.checkins import OccurredAtOutOfRange
from kiosk.backend.desk.guests import GuestInternetUnavailable
from kiosk.backend.desk.outcomes import (
    AnswersTooLarge,
    ClientRefConflict,
    MemberNotAllowed,
    MemberNotFound,
    SurveyRefReused,
)
from kiosk.backend.desk.typed_entry import VerificationFailed, VerificationLocked
from kiosk.backend.library.link import LibraryUnavailable
from kiosk.backend.metrics import PROVISIONING_ERRORS
from kiosk.backend.provisioning import ProvisioningUnavailable
from kiosk.protocol import ErrorCode, ErrorEnvelope, MemberStatus, error_envelope

log = logging.getLogger("kiosk.backend")

_ERROR_DESCRIPTIONS = {
    401: "missing or wrong bearer token (`unauthorized`)",
    403: "expired or blocked member asking for internet (`member_expired`, `member_blocked`);"
    " a guest asking for internet when [guests] gives none or the day's vouchers are gone"
    " (`guest_internet_unavailable`); a typed member number with a wrong birth date"
    " (`verification_failed`) or whose typed entry is locked after five in an hour"
    " (`verification_locked`)",
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


def documented_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for an authenticated endpoint that may also answer `codes`."""
    every = (401, 413, 422, 429, 500, *codes)
    return {
        code: {"model": ErrorEnvelope, "description": _ERROR_DESCRIPTIONS[code]}
        for code in sorted(set(every))
    }


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_envelope(code, message), status_code=status, headers=headers)


def validation_message(errors: list[Any]) -> str:
    """Pydantic's errors as one short sentence that names the field (at most three)."""
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


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
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


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, ErrorCode.invalid_request, validation_message(list(exc.errors())))


async def _domain(_: Request, exc: Exception) -> JSONResponse:
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
    if isinstance(exc, WrongKiosk):
        return error_response(403, ErrorCode.forbidden, str(exc))
    if isinstance(exc, SurveyRefReused):
        return error_response(422, ErrorCode.client_ref_conflict, str(exc))
    if isinstance(exc, ClientRefConflict):
        return error_response(409, ErrorCode.client_ref_conflict, str(exc))
    if isinstance(exc, GuestInternetUnavailable):
        log.info("guest internet refused: %s", exc)
        return error_response(
            403,
            ErrorCode.guest_internet_unavailable,
            "no internet for guests at this kiosk now; the desk can help",
        )
    if isinstance(exc, VerificationFailed):
        return error_response(
            403, ErrorCode.verification_failed, "the birth date does not match this member"
        )
    if isinstance(exc, VerificationLocked):
        return error_response(
            403,
            ErrorCode.verification_locked,
            "too many wrong birth dates: show the member card or see staff",
        )
    if isinstance(exc, AnswersTooLarge | OccurredAtOutOfRange):
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
        PROVISIONING_ERRORS.inc()
        return error_response(
            503,
            ErrorCode.provisioning_unavailable,
            "the network cannot take a new credential now; try again shortly",
        )
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    """Every HTTP, validation and domain error of `app` answers the envelope."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    for kind in (
        GuestInternetUnavailable,
        MemberNotFound,
        MemberNotAllowed,
        ClientRefConflict,
        AnswersTooLarge,
        OccurredAtOutOfRange,
        ProvisioningUnavailable,
        LibraryUnavailable,
        VerificationFailed,
        VerificationLocked,
        WrongKiosk,
    ):
        app.add_exception_handler(kind, _domain)
