"""The /api/v1 routes: health, lookup, check-ins, visits, guests, surveys, stats, heartbeat."""

from __future__ import annotations

import datetime as dt

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from kiosk import __version__
from kiosk.backend import kiosks
from kiosk.backend.api.auth import WrongKiosk
from kiosk.backend.api.deps import (
    AUTHENTICATED,
    ClockDep,
    DeskDep,
    DeskPlacementDep,
    EngineDep,
    GuestDeskDep,
    ProvisionerDep,
    TypedEntryDep,
)
from kiosk.backend.api.errors import documented_errors
from kiosk.backend.db import check_database, read_session, write_session
from kiosk.backend.desk.outcomes import Outcome
from kiosk.backend.desk.placement import DeskPlacement
from kiosk.backend.desk.satisfaction import record_survey
from kiosk.backend.desk.typed_entry import TypedEntry
from kiosk.backend.metrics import CHECKINS, LOOKUPS, result_of
from kiosk.backend.provisioning import ProvisioningUnavailable
from kiosk.backend.reports.today import stats_for_day
from kiosk.protocol import (
    API_PREFIX,
    CheckinRequest,
    CheckinResponse,
    GuestVisitRequest,
    GuestVisitResponse,
    HealthResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    LookupRequest,
    LookupResponse,
    SatisfactionRequest,
    SatisfactionResponse,
    StatsToday,
    VisitRequest,
    VisitResponse,
)

router = APIRouter(prefix=API_PREFIX)


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def health(engine: EngineDep, network: ProvisionerDep, desk: DeskDep) -> JSONResponse:
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
    dependencies=AUTHENTICATED,
    responses=documented_errors(404, 503),
)
def lookup(body: LookupRequest, desk: DeskDep, typed: TypedEntryDep) -> JSONResponse:
    try:
        answer = desk.lookup(body.card)
        if body.entry == "typed":
            answer = typed.lookup(answer)
    except Exception as exc:
        LOOKUPS.labels(result=result_of(exc)).inc()
        raise
    LOOKUPS.labels(result="found").inc()
    return JSONResponse(answer.model_dump(mode="json"))


async def counted_record(
    placement: DeskPlacement,
    body: VisitRequest,
    *,
    allow_credential: bool,
    typed: TypedEntry | None = None,
) -> Outcome:
    """desk.record where DeskPlacement puts it, counted in kiosk_checkins_total by result;
    a typed number's check-in asks `typed` first (in a thread: it writes its own counts)
    whether it may get a credential."""
    try:
        if typed is not None and allow_credential and body.entry == "typed":
            member_id = placement.desk.member_id(body.card)
            allow_credential = await anyio.to_thread.run_sync(
                typed.allows_credential, body, member_id
            )
        outcome = await placement.record(body, allow_credential=allow_credential)
    except Exception as exc:
        CHECKINS.labels(result=result_of(exc)).inc()
        raise
    CHECKINS.labels(result="replay" if outcome.replay else "recorded").inc()
    return outcome


def speaks_for(request: Request, kiosk_id: str) -> None:
    """A token bound to a kiosk (a registered kiosk's, or one in [backend] api_token_kiosks)
    may send only that kiosk's visits and heartbeats."""
    bound = getattr(request.state, "token_kiosk", None)
    if bound is not None and bound != kiosk_id:
        raise WrongKiosk(bound)


@router.post(
    "/checkins",
    status_code=201,
    response_model=CheckinResponse,
    dependencies=AUTHENTICATED,
    responses={
        200: {"model": CheckinResponse, "description": "replay of the same client_ref"},
        **documented_errors(403, 404, 409, 503),
    },
)
async def checkin(
    request: Request, body: CheckinRequest, placement: DeskPlacementDep, typed: TypedEntryDep
) -> Response:
    speaks_for(request, body.kiosk_id)
    outcome = await counted_record(placement, body, allow_credential=True, typed=typed)
    return Response(
        outcome.json(), status_code=200 if outcome.replay else 201, media_type="application/json"
    )


@router.post(
    "/visits",
    status_code=201,
    response_model=VisitResponse,
    dependencies=AUTHENTICATED,
    responses={
        200: {"model": VisitResponse, "description": "replay of the same client_ref"},
        **documented_errors(403, 404, 409, 503),
    },
)
async def visit(request: Request, body: VisitRequest, placement: DeskPlacementDep) -> JSONResponse:
    speaks_for(request, body.kiosk_id)
    outcome = await counted_record(placement, body, allow_credential=False)
    answer = VisitResponse(visit=outcome.response.visit)
    return JSONResponse(answer.model_dump(mode="json"), status_code=200 if outcome.replay else 201)


@router.post(
    "/guest-visits",
    status_code=201,
    response_model=GuestVisitResponse,
    dependencies=AUTHENTICATED,
    responses={
        200: {"model": GuestVisitResponse, "description": "replay of the same client_ref"},
        **documented_errors(403, 409, 503),
    },
)
def guest_visit(
    request: Request, body: GuestVisitRequest, guest_desk: GuestDeskDep
) -> JSONResponse:
    speaks_for(request, body.kiosk_id)
    response, replay = guest_desk.record(body)
    return JSONResponse(response.model_dump(mode="json"), status_code=200 if replay else 201)


@router.post(
    "/satisfaction",
    status_code=201,
    response_model=SatisfactionResponse,
    dependencies=AUTHENTICATED,
    responses={
        200: {"model": SatisfactionResponse, "description": "replay of the same client_ref"},
        **documented_errors(),
    },
)
def satisfaction(body: SatisfactionRequest, desk: DeskDep) -> JSONResponse:
    """An anonymous satisfaction survey (SKM, PermenPANRB 14/2017) answered at a kiosk."""
    response, replay = record_survey(desk, body)
    return JSONResponse(response.model_dump(mode="json"), status_code=200 if replay else 201)


@router.get(
    "/stats/today",
    response_model=StatsToday,
    dependencies=AUTHENTICATED,
    responses=documented_errors(),
)
def stats_today(
    request: Request, engine: EngineDep, desk: DeskDep, clock: ClockDep
) -> JSONResponse:
    with read_session(engine) as session:
        stats = stats_for_day(session, desk.today(clock()), desk.timezone)
    digest = getattr(request.state, "token_digest", "")
    if digest:
        stats.lookups_paused_seconds = request.app.state.unknown_members.paused_for(digest)
    return JSONResponse(stats.model_dump(mode="json"))


@router.post(
    "/kiosks/heartbeat",
    response_model=HeartbeatResponse,
    dependencies=AUTHENTICATED,
    responses=documented_errors(403),
)
def heartbeat(
    request: Request, body: HeartbeatRequest, engine: EngineDep, clock: ClockDep
) -> JSONResponse:
    speaks_for(request, body.kiosk_id)
    now = clock()
    with write_session(engine) as session:
        kiosks.record_heartbeat(session, body, now)
    return JSONResponse(HeartbeatResponse(received_at=now).model_dump(mode="json"))
