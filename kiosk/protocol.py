"""Pydantic models of the HTTP contract (prefix /api/v1), shared by the backend and the kiosk."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

import annotated_types
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

API_PREFIX = "/api/v1"

MAX_CARD_LENGTH = 256
MAX_ANSWER_KEYS = 32
MAX_GUEST_NAME = 80
MAX_GROUP_SIZE = 500
MAX_COUNT = 2**31 - 1


class MemberStatus(StrEnum):
    active = "active"
    expired = "expired"
    blocked = "blocked"


class ErrorCode(StrEnum):
    unauthorized = "unauthorized"
    # GET /metrics from an address outside [backend] metrics_allow.
    forbidden = "forbidden"
    member_not_found = "member_not_found"
    member_expired = "member_expired"
    member_blocked = "member_blocked"
    invalid_request = "invalid_request"
    client_ref_conflict = "client_ref_conflict"
    provisioning_unavailable = "provisioning_unavailable"
    guest_internet_unavailable = "guest_internet_unavailable"
    # A typed member number with a wrong birth date, or one whose typed entry is locked.
    verification_failed = "verification_failed"
    verification_locked = "verification_locked"
    # The library's database (SLiMS, INLISLite) is down and the member is not in the copy.
    library_unavailable = "library_unavailable"
    rate_limited = "rate_limited"
    # POST /kiosks/enroll: a code that is not known (or was revoked), used, or expired.
    enrollment_code_wrong = "enrollment_code_wrong"
    enrollment_code_used = "enrollment_code_used"
    enrollment_code_expired = "enrollment_code_expired"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    payload_too_large = "payload_too_large"
    # The body did not arrive in [backend] header_timeout_seconds x 3 (a dripping client).
    request_timeout = "request_timeout"
    internal_error = "internal_error"


KIOSK_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# The kiosk id of credentials staff issue at the library's service counter (meja layanan):
# such an issue is not a guestbook visit and is counted on its own line in the reports.
COUNTER_KIOSK_ID = "meja-layanan"
_TIME_EXAMPLE = "e.g. 2026-11-28T09:30:00+07:00"


def _time_text(value: object) -> object:
    # A number would be taken as seconds since 1970: a kiosk always sends ISO 8601 text.
    if isinstance(value, int | float):
        raise ValueError(f"must be an ISO 8601 time with a UTC offset, {_TIME_EXAMPLE}")
    return value


def _json_integer(value: object) -> object:
    # JSON Schema's integer: a number with no fraction (3 or 3.0), never true/false or "3".
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"must carry a UTC offset, {_TIME_EXAMPLE}")
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("is outside the calendar once turned into UTC") from None
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
AwareDatetime = Annotated[dt.datetime, BeforeValidator(_time_text), AfterValidator(_aware)]
CardText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CARD_LENGTH)]
# Letters, digits and -_.: only: a kiosk id is written into logs and reports.
KioskId = Annotated[str, StringConstraints(pattern=KIOSK_ID_PATTERN)]
# 1e400 parses as infinity, and Python's json takes NaN/Infinity: none can be answered.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
AnswerValue = str | int | FiniteFloat | bool | None


def _no_control_characters(value: str) -> str:
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise ValueError("must not contain control characters")
    if value != value.strip() or not value:
        raise ValueError("must not be empty or start or end with spaces")
    return value


def _no_control_or_blank(value: str) -> str:
    return _no_control_characters(value) if value else value


# The same rule for the OpenAPI schema (checked above, with a message that says which).
_TEXT_ON_ONE_LINE = r"[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?"
GuestName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_GUEST_NAME),
    AfterValidator(_no_control_characters),
    Field(json_schema_extra={"pattern": f"^{_TEXT_ON_ONE_LINE}$"}),
]
GuestInstitution = Annotated[
    str,
    StringConstraints(max_length=MAX_GUEST_NAME),
    AfterValidator(_no_control_or_blank),
    Field(json_schema_extra={"pattern": f"^(?:{_TEXT_ON_ONE_LINE})?$"}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


# How the member number reached the kiosk: a card shown to the camera, or typed on the
# keypad (which anyone who knows a number can do: see [members] typed_entry).
Entry = Literal["scan", "typed"]


class Verification(_Model):
    """What a typed number brings to show it is the member's own: the birth date."""

    birth_date: dt.date


class LookupRequest(_Model):
    card: CardText
    entry: Entry = "scan"


class VisitRequest(_Model):
    """A guestbook entry: the body of POST /visits (and the base of POST /checkins)."""

    client_ref: uuid.UUID
    card: CardText
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=MAX_ANSWER_KEYS)
    want_internet: StrictBool = False
    kiosk_id: KioskId
    occurred_at: AwareDatetime
    entry: Entry = "scan"
    # Only a typed check-in asking for internet reads it; /visits ignores it (and the
    # kiosk never queues it: a birth date does not wait in the outbox).
    verification: Verification | None = None


class CheckinRequest(VisitRequest):
    """A check-in: a visit that may also ask for an internet credential."""

    want_internet: StrictBool = True


class GuestVisitRequest(_Model):
    """A non-member's guestbook entry, or a group's (rombongan) led by `name`: the body
    of POST /guest-visits. `client_ref` shares one namespace with /visits and /checkins."""

    client_ref: uuid.UUID
    name: GuestName
    institution: GuestInstitution = ""
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=MAX_ANSWER_KEYS)
    want_internet: StrictBool = False
    kiosk_id: KioskId
    occurred_at: AwareDatetime
    group_size: JsonInt = Field(1, ge=1, le=MAX_GROUP_SIZE)


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
    # 'local' (CSV table), 'library' (SLiMS/INLISLite asked live), 'copy' (the library's
    # database did not answer: the local copy served).
    served_from: Literal["local", "library", "copy"] = "local"
    # What internet needs at this entry: 'none' (a card, or [members] typed_entry "open"),
    # 'birth_date' (a typed number: the date pad), 'card' (a typed number that cannot be
    # verified: guestbook only, show the card or see staff).
    verification: Literal["none", "birth_date", "card"] = "none"


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


class GuestVisit(_Model):
    client_ref: uuid.UUID
    name: str
    institution: str
    group_size: int
    kiosk_id: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    answers: dict[str, AnswerValue]
    want_internet: bool


class GuestVisitResponse(_Model):
    visit: GuestVisit
    credential: Credential | None = None


class HealthResponse(_Model):
    status: str = "ok"
    version: str
    database: str
    provisioning: str
    time: dt.datetime
    # With [members] source slims/inlislite: 'slims: ok' or why the local copy serves.
    library: str | None = None
    # Visits waiting to be written to the library's guestbook table, and set aside.
    writeback_waiting: int | None = None
    writeback_failed: int | None = None


class StatsToday(_Model):
    date: dt.date
    visits: int
    credentials_issued: int
    credentials_reused: int
    # People who signed as guests (a group counts by its size), and groups among them.
    guests: int = 0
    groups: int = 0
    # Seconds the calling kiosk's lookups stay paused after too many unknown member numbers.
    lookups_paused_seconds: int = 0


class CameraState(StrEnum):
    ok = "ok"
    no_camera = "no_camera"
    reconnecting = "reconnecting"
    unknown = "unknown"


class HeartbeatRequest(_Model):
    """POST /kiosks/heartbeat: a kiosk says it is alive and how it is doing."""

    kiosk_id: KioskId
    # The schema says integer: `false` or "3" is a kiosk's bug, not a count.
    # At most what the database's integer column holds (a larger one was a 500).
    outbox_depth: JsonInt = Field(0, ge=0, le=MAX_COUNT)
    dead_letters: JsonInt = Field(0, ge=0, le=MAX_COUNT)
    camera: CameraState = CameraState.unknown
    version: str = Field("", max_length=32)
    # The version of the steered settings the kiosk runs with (None: its config file's own).
    settings_version: (
        Annotated[
            int,
            annotated_types.Ge(0),
            annotated_types.Le(MAX_COUNT),
            BeforeValidator(_json_integer),
        ]
        | None
    ) = None


class HeartbeatResponse(_Model):
    received_at: dt.datetime


# A one-time enrollment code made in the console: eight letters and digits in two groups of
# four ("K7QD-3M9P"); typed with or without the dash, in either case.
ENROLLMENT_CODE_PATTERN = r"^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$"
# A location code (a reading room, a branch): lowercase letters, digits and dashes; "" = none.
LOCATION_PATTERN = r"^(?:[a-z0-9][a-z0-9-]{0,31})?$"
LocationCode = Annotated[str, StringConstraints(pattern=LOCATION_PATTERN)]


class EnrollRequest(_Model):
    """POST /kiosks/enroll (no token): a new kiosk trades a one-time code for its own token."""

    code: Annotated[str, StringConstraints(pattern=ENROLLMENT_CODE_PATTERN)]
    version: str = Field("", max_length=32)


class EnrollResponse(_Model):
    kiosk_id: KioskId
    location: LocationCode
    # Shown once: the kiosk keeps it in its data directory (owner-only), never in config.toml.
    token: str


class KioskSettingsResponse(_Model):
    """GET /kiosks/{kiosk_id}/settings: the settings this kiosk runs with. The ETag names the
    version; with If-None-Match the answer is 304 and no body while nothing changed."""

    kiosk_id: KioskId
    location: LocationCode
    version: int = Field(ge=0)
    # False: staff put this kiosk out of service from the console.
    in_service: bool = True
    # A document that kiosk.config.steered.SteeredSettings validates.
    settings: dict[str, Any]


# The nine elements (unsur) of the public's satisfaction survey, PermenPANRB 14/2017:
# requirements, procedure, time, cost, product, staff competence, staff conduct, complaint
# handling, facilities; each answered 1-4.
# As Literal types, so the OpenAPI schema names them (propertyNames) as the API enforces them.
SkmElement = Literal["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"]
SKM_ELEMENTS: tuple[str, ...] = get_args(SkmElement)
# The respondent's profile, from the guestbook's answers (never who they are).
SkmProfileKey = Literal["occupation", "education", "gender"]
SKM_PROFILE_KEYS: tuple[str, ...] = get_args(SkmProfileKey)
# 1-4, an integer as JSON Schema means it (3.0 is 3; true and "3" are not).
SkmScore = Annotated[
    int, annotated_types.Ge(1), annotated_types.Le(4), BeforeValidator(_json_integer)
]
ProfileValue = Annotated[
    str,
    StringConstraints(min_length=1, max_length=80),
    AfterValidator(_no_control_characters),
    Field(json_schema_extra={"pattern": f"^{_TEXT_ON_ONE_LINE}$"}),
]


class SatisfactionRequest(_Model):
    """POST /satisfaction: one anonymous survey (SKM) answered at a kiosk; elements skipped
    are left out (at least one answered)."""

    client_ref: uuid.UUID
    kiosk_id: KioskId
    occurred_at: AwareDatetime
    answers: dict[SkmElement, SkmScore] = Field(min_length=1, max_length=len(SKM_ELEMENTS))
    profile: dict[SkmProfileKey, ProfileValue] = Field(default_factory=dict)


class SatisfactionResponse(_Model):
    client_ref: uuid.UUID
    received_at: dt.datetime


# What a kiosk's outbox keeps until the backend has it.
OutboxBody = VisitRequest | GuestVisitRequest | SatisfactionRequest


def stored_visit(body: str) -> OutboxBody:
    """A visit kept as JSON (the kiosk's outbox) back as its request: a member's carries a
    card, a guest's or group's a name, a satisfaction survey neither."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "card" not in data and "name" in data:
        return GuestVisitRequest.model_validate_json(body)
    if isinstance(data, dict) and "card" not in data and "name" not in data:
        return SatisfactionRequest.model_validate_json(body)
    return VisitRequest.model_validate_json(body)


def error_envelope(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message}}
