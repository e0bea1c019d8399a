"""GET /kiosks/{id}/settings on the real server: the document a kiosk runs with, validated by the
kiosk's own model, with an ETag that answers 304 while nothing changed."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from support.backend_server import BackendServer

from kiosk.backend.db import KioskRow, create_db_engine, migrate, read_session, write_session
from kiosk.backend.kiosks import set_in_service
from kiosk.backend.steering import versions
from kiosk.backend.steering.locations import Location, place_kiosk, save_location
from kiosk.config import Settings, load_settings
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


def _database(server: BackendServer) -> Engine:
    return create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)


def test_a_saved_version_a_location_and_the_service_state_reach_the_kiosk(
    tmp_path: Path,
) -> None:
    """The console's stores, read by the real server: the newest version, the kiosk's
    location's overrides over it, in_service, and the heartbeat's settings_version kept."""
    with BackendServer(tmp_path) as server:
        first = server.get("/kiosks/kiosk-lantai-2/settings")
        assert first.status_code == 200 and first.json()["version"] == 0  # seeded
        engine = _database(server)
        now = dt.datetime.now(dt.UTC)
        try:
            with write_session(engine) as session:
                base = versions.version_of(session, 0)
                assert base is not None
                changed = base.data
                changed["library"]["wifi_ssid"] = "Perpus-Baru"
                saved = versions.save(session, parse_steered(changed), 0, "pustakawan", now)
                assert saved.number == 1 and saved.summary == "library.wifi_ssid"
                overrides = {"library": {"name": "Ruang Baca Anak"}, "skm": {"enabled": False}}
                save_location(
                    session, Location("anak", "Ruang anak", "RA", 3, overrides), saved.document
                )
                place_kiosk(session, "kiosk-lantai-2", "anak")
            beat = {"kiosk_id": "kiosk-lantai-2", "settings_version": 1}
            assert server.post("/kiosks/heartbeat", json=beat).status_code == 200
            with write_session(engine) as session:
                set_in_service(session, "kiosk-lantai-2", False)
            with read_session(engine) as session:
                row = session.get(KioskRow, "kiosk-lantai-2")
                assert row is not None and row.settings_version == 1
        finally:
            engine.dispose()
        tag = first.headers["ETag"]
        now_served = server.get(
            "/kiosks/kiosk-lantai-2/settings", headers={**server.headers, "If-None-Match": tag}
        )
        assert now_served.status_code == 200 and now_served.headers["ETag"] != tag
        body = now_served.json()
        assert (body["version"], body["location"], body["in_service"]) == (1, "anak", False)
        steered = parse_steered(body["settings"])
        assert steered.library.wifi_ssid == "Perpus-Baru"
        assert steered.library.name == "Ruang Baca Anak" and steered.skm.enabled is False
        other = parse_steered(server.get("/kiosks/kiosk-pintu-utama/settings").json()["settings"])
        assert other.library.name != "Ruang Baca Anak" and other.skm.enabled is True


def test_a_save_on_an_older_version_is_refused(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'k.db'}", pool_size=1)
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        seeded = versions.current(engine, Settings(), now)
        with write_session(engine) as session:
            versions.save(session, seeded.document, 0, "a", now, "first")
        with pytest.raises(versions.StaleVersion), write_session(engine) as session:
            versions.save(session, seeded.document, 0, "b", now, "second")
        assert [v.number for v in versions.history(engine)] == [1, 0]
    finally:
        engine.dispose()


def test_the_backends_own_rules_follow_a_saved_version(tmp_path: Path) -> None:
    """Typed entry and the guest policy saved in Pengaturan hold for the kiosks' next
    requests, in the running server, without a restart."""
    with BackendServer(tmp_path) as server:
        typed = {"card": "19000123", "entry": "typed"}
        assert server.post("/members/lookup", json=typed).json()["verification"] == "birth_date"
        guest = {
            "client_ref": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "name": "Tamu Uji",
            "answers": {"purpose": "internet"},
            "want_internet": True,
        }
        refused = server.post("/guest-visits", json=guest)
        assert refused.status_code == 403, refused.text  # [guests] internet = "none"
        assert server.get("/kiosks/kiosk-pintu-utama/settings").json()["version"] == 0
        engine = _database(server)
        try:
            with write_session(engine) as session:
                base = versions.version_of(session, 0)
                assert base is not None
                changed = base.data
                changed["members"]["typed_entry"] = "open"
                changed["guests"]["internet"] = "voucher"
                versions.save(session, parse_steered(changed), 0, "admin", dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()
        deadline = time.monotonic() + 30
        while server.post("/members/lookup", json=typed).json()["verification"] != "none":
            assert time.monotonic() < deadline, "typed entry never followed the saved version"
            time.sleep(0.1)  # the server checks the newest version at most every 2 s
        issued = server.post("/guest-visits", json=guest)
        assert issued.status_code == 201, issued.text
        assert issued.json()["credential"] is not None
