"""GET /kiosks/{id}/settings on the real server: the document a kiosk runs with, validated by the
kiosk's own model, with an ETag that answers 304 while nothing changed."""

from __future__ import annotations

from support.backend_server import BackendServer

from kiosk.config import load_settings
from kiosk.config.steered import parse_steered, with_steered


def test_a_kiosk_gets_its_settings_and_a_304_while_they_are_unchanged(
    shared_server: BackendServer,
) -> None:
    first = shared_server.get("/kiosks/kiosk-pintu-utama/settings")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["kiosk_id"] == "kiosk-pintu-utama" and body["in_service"] is True
    steered = parse_steered(body["settings"])
    file_settings = load_settings(shared_server.config_path)
    assert with_steered(file_settings, steered) == file_settings
    tag = first.headers["ETag"]
    again = shared_server.get(
        "/kiosks/kiosk-pintu-utama/settings",
        headers={**shared_server.headers, "If-None-Match": tag},
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    stale = shared_server.get(
        "/kiosks/kiosk-pintu-utama/settings",
        headers={**shared_server.headers, "If-None-Match": '"0000"'},
    )
    assert stale.status_code == 200 and stale.json() == body


def test_settings_need_a_token(shared_server: BackendServer) -> None:
    assert shared_server.get("/kiosks/kiosk-1/settings", headers={}).status_code == 401
    assert shared_server.get("/kiosks/not a kiosk!/settings").status_code == 422
