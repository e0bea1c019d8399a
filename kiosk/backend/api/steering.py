"""GET /kiosks/{kiosk_id}/settings: the settings a kiosk runs with; 304 while unchanged."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from kiosk.backend.api.deps import AUTHENTICATED, SettingsDep
from kiosk.backend.api.errors import documented_errors
from kiosk.backend.api.routes import speaks_for
from kiosk.config.steered import steered_from
from kiosk.protocol import API_PREFIX, KioskId, KioskSettingsResponse

router = APIRouter(prefix=API_PREFIX)


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
def kiosk_settings(request: Request, kiosk_id: KioskId, settings: SettingsDep) -> Response:
    """Version 0 is config.toml's own sections; the console's Pengaturan page makes later ones."""
    speaks_for(request, kiosk_id)
    body = KioskSettingsResponse(
        kiosk_id=kiosk_id,
        location="",
        version=0,
        settings=steered_from(settings).model_dump(mode="json"),
    )
    tag = entity_tag(body)
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": tag})
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": tag})
