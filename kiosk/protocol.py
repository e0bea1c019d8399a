"""Pydantic models of the HTTP contract (prefix /api/v1), shared by the backend and the kiosk.

The backend validates requests and serialises answers with these; the kiosk's client
parses answers with them. Neither side imports the other: they meet here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

API_PREFIX = "/api/v1"

MAX_CARD_LENGTH = 256
MAX_ANSWER_KEYS = 32


class MemberStatus(StrEnum):
    active = "active"
    expired = "expired"
    blocked = "blocked"


class ErrorCode(StrEnum):
    unauthorized = "unauthorized"
    member_not_found = "member_not_found"
    member_expired = "member_expired"
    member_blocked = "member_blocked"
    invalid_request = "invalid_request"
    client_ref_conflict = "client_ref_conflict"
    provisioning_unavailable = "provisioning_unavailable"
    rate_limited = "rate_limited"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    payload_too_large = "payload_too_large"
    internal_error = "internal_error"


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-11-28T09:30:00+07:00")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]
CardText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CARD_LENGTH)]
KioskId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AnswerValue = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class LookupRequest(_Model):
    card: CardText


class VisitRequest(_Model):
    """A guestbook entry: the body of POST /visits (and the base of POST /checkins)."""

    client_ref: uuid.UUID
    card: CardText
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=MAX_ANSWER_KEYS)
    want_internet: bool = False
    kiosk_id: KioskId
    occurred_at: AwareDatetime


class CheckinRequest(VisitRequest):
    """A check-in: a visit that may also ask for an internet credential."""

    want_internet: bool = True


# ------------------------------------------------------------------- answers


class ErrorBody(_Model):
    code: ErrorCode
    message: str


class ErrorEnvelope(_Model):
    error: ErrorBody


class Member(_Model):
    id: str
    name: str
    status: MemberStatus
    expires_on: dt.date | None = None


class LookupResponse(_Model):
    member: Member
    has_credential: bool
    last_answers: dict[str, AnswerValue] | None = None


class Visit(_Model):
    client_ref: uuid.UUID
    member_id: str
    kiosk_id: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    answers: dict[str, AnswerValue]
    want_internet: bool


class Credential(_Model):
    username: str
    password: str
    expires_at: dt.datetime
    reused: bool


class CheckinResponse(_Model):
    visit: Visit
    credential: Credential | None = None


class VisitResponse(_Model):
    visit: Visit


class HealthResponse(_Model):
    status: str = "ok"
    version: str
    database: str
    provisioning: str
    time: dt.datetime


class StatsToday(_Model):
    date: dt.date
    visits: int
    credentials_issued: int
    credentials_reused: int


class CameraState(StrEnum):
    ok = "ok"
    no_camera = "no_camera"
    reconnecting = "reconnecting"
    unknown = "unknown"


class HeartbeatRequest(_Model):
    """POST /kiosks/heartbeat: a kiosk says it is alive and how it is doing."""

    kiosk_id: KioskId
    outbox_depth: int = Field(0, ge=0)
    dead_letters: int = Field(0, ge=0)
    camera: CameraState = CameraState.unknown
    version: str = Field("", max_length=32)


class HeartbeatResponse(_Model):
    received_at: dt.datetime


def error_envelope(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message}}
