"""GET /kiosks/{kiosk_id}/settings: the settings a kiosk runs with; 304 while unchanged."""

from __future__ import annotations

import hashlib
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from kiosk.backend.api.deps import AUTHENTICATED, ClockDep, EngineDep, SettingsDep
from kiosk.backend.api.errors import documented_errors
from kiosk.backend.api.routes import speaks_for
from kiosk.backend.db import KioskRow, read_session
from kiosk.backend.steering import versions
from kiosk.backend.steering.locations import effective, find_location, location_of
from kiosk.config import ConfigError
from kiosk.protocol import API_PREFIX, KioskId, KioskSettingsResponse

router = APIRouter(prefix=API_PREFIX)
log = logging.getLogger("kiosk.backend.steering")


def entity_tag(body: KioskSettingsResponse) -> str:
    """A strong ETag over the whole answer: version, location, service state and document."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'


@router.get(
    "/kiosks/{kiosk_id}/settings",
    response_model=KioskSettingsResponse,
    dependencies=AUTHENTICATED,
    responses={**documented_errors(403), 304: {"description": "Not modified: the copy is current"}},
)
def kiosk_settings(
    request: Request, kiosk_id: KioskId, settings: SettingsDep, engine: EngineDep, clock: ClockDep
) -> Response:
    """The newest version the console saved (version 0: config.toml's, stored on the first
    start), with the kiosk's location's overrides merged in, and whether it is in service."""
    speaks_for(request, kiosk_id)
    current = versions.current(engine, settings, clock())
    with read_session(engine) as session:
        row = session.get(KioskRow, kiosk_id)
        code = location_of(session, kiosk_id)
        location = find_location(session, code)
    document = current.document
    if location is not None:
        try:
            document = effective(document, location.overrides)
        except ConfigError as exc:  # saving refuses this; a kiosk still gets the library's
            log.error(
                "settings location=%s overrides do not fit: %s",
                code,
                str(exc).encode("unicode_escape").decode(),
            )
    body = KioskSettingsResponse(
        kiosk_id=kiosk_id,
        location=code,
        version=current.number,
        in_service=row.in_service if row is not None else True,
        settings=document.model_dump(mode="json"),
    )
    tag = entity_tag(body)
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": tag})
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": tag})
