"""The kiosk follows the console's settings through the real backend: a copy kept in its data
directory, 304 while nothing changed, the last good copy when the backend is down, a document it
cannot run refused, and a full disk that loses nothing."""

from __future__ import annotations

import http.server
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from kiosk.config import Settings, load_settings
from kiosk.config.guestbook import default_fields
from kiosk.config.steered import SCHEMA, steered_from
from kiosk.terminal.client import BackendClient
from kiosk.terminal.heartbeat import HeartbeatSender
from kiosk.terminal.outbox import open_outbox
from kiosk.terminal.steering import COPY_FILE, SettingsFollower

REPO = Path(__file__).resolve().parents[2]
KIOSK_ID = "kiosk-pintu-utama"


def renamed_purpose(label_id: str, label_en: str) -> list[dict[str, Any]]:
    fields = [f.model_dump() for f in default_fields()]
    fields[0]["label"] = {"id": label_id, "en": label_en}
    return fields


@pytest.fixture
def steered_backend(tmp_path: Path) -> Iterator[BackendServer]:
    server = BackendServer(
        tmp_path / "backend",
        guestbook={"fields": renamed_purpose("Keperluan datang", "Why you came")},
        library={"name": "Perpustakaan Cabang Sungailiat"},
    )
    yield server
    server.stop()


def kiosk_settings(server: BackendServer, data_dir: Path) -> Settings:
    return load_settings(REPO / "config.toml").with_overrides(
        kiosk={
            "backend_url": server.base_url,
            "api_token": server.token,
            "kiosk_id": KIOSK_ID,
            "data_dir": str(data_dir),
            "connect_timeout": 1.0,
            "read_timeout": 3.0,
        }
    )


def test_a_kiosk_takes_the_backends_settings_keeps_a_copy_and_starts_from_it_offline(
    steered_backend: BackendServer, tmp_path: Path
) -> None:
    data = tmp_path / "kiosk"
    settings = kiosk_settings(steered_backend, data)
    follower = SettingsFollower(settings, data)
    assert follower.settings is settings and follower.running_version is None
    with BackendClient(settings.kiosk) as client:
        assert follower.fetch(client, KIOSK_ID) == "changed"
        assert follower.settings is settings, "nothing changes before the next Welcome"
        update = follower.take_update()
        assert update is not None and follower.take_update() is None
        assert update.settings.guestbook.fields[0].label.id == "Keperluan datang"
        assert update.settings.library.name == "Perpustakaan Cabang Sungailiat"
        # The machine's own keys stay as its file says.
        assert update.settings.kiosk.data_dir == str(data)
        assert update.settings.kiosk.backend_url == steered_backend.base_url
        assert follower.fetch(client, KIOSK_ID) == "unchanged"
    assert (data / COPY_FILE).exists()

    steered_backend.stop()  # the backend is down when the kiosk starts again
    again = SettingsFollower(settings, data)
    assert again.settings.guestbook.fields[0].label.en == "Why you came"
    assert again.running_version == 0
    with BackendClient(settings.kiosk) as client:
        assert again.fetch(client, KIOSK_ID) == "unreachable"
    assert again.take_update() is None
    described = again.describe()
    assert described["source"].startswith("backend") and described["kiosk_id"] == KIOSK_ID
    assert described["settings"]["library"]["name"] == "Perpustakaan Cabang Sungailiat"


def test_kiosk_settings_prints_what_the_kiosk_runs_with(
    steered_backend: BackendServer, tmp_path: Path
) -> None:
    printed = json.loads(steered_backend.kiosk("settings").stdout)
    assert printed["source"] == "config file" and printed["version"] is None
    data = Path(steered_backend.dir / "kiosk-data")
    settings = load_settings(steered_backend.config_path)
    with BackendClient(settings.kiosk) as client:
        assert SettingsFollower(settings, data).fetch(client, settings.kiosk.kiosk_id) == "changed"
    printed = json.loads(steered_backend.kiosk("settings").stdout)
    assert printed["version"] == 0 and printed["source"].startswith("backend")
    assert printed["settings"]["guestbook"]["fields"][0]["label"]["id"] == "Keperluan datang"


def test_the_heartbeat_reports_the_running_version_and_asks_for_settings(
    steered_backend: BackendServer, tmp_path: Path
) -> None:
    data = tmp_path / "kiosk"
    settings = kiosk_settings(steered_backend, data)
    follower = SettingsFollower(settings, data)
    outbox = open_outbox(tmp_path / "outbox.sqlite3")
    with BackendClient(settings.kiosk) as client:
        heartbeat = HeartbeatSender(client, outbox, KIOSK_ID, lambda: None, follower=follower)
        assert heartbeat.beat().settings_version is None
        heartbeat.follow_settings()
        assert follower.take_update() is not None
        assert heartbeat.beat().settings_version == 0
        assert heartbeat.send_once()
    outbox.close()


def answer_copy(document: dict[str, Any], version: int = 7) -> str:
    """A settings.json as the kiosk writes it, holding `document`."""
    answer = {"kiosk_id": KIOSK_ID, "location": "", "version": version, "in_service": True}
    return json.dumps({"etag": '"x"', "answer": {**answer, "settings": document}})


@pytest.mark.parametrize(
    "copy",
    [
        "{not json",
        json.dumps({"etag": '"x"', "answer": {"kiosk_id": KIOSK_ID}}),
        answer_copy({"schema_version": SCHEMA + 1, "library": {"name": "Baru"}}),
        answer_copy({"screens": {"timeouts": {"guestbook": -1}}}),
    ],
    ids=["corrupt", "incomplete", "newer-schema", "invalid-value"],
)
def test_a_copy_the_kiosk_cannot_run_leaves_it_on_its_file(
    tmp_path: Path, copy: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(REPO / "config.toml")
    (tmp_path / COPY_FILE).write_text(copy, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="kiosk.steering"):
        follower = SettingsFollower(settings, tmp_path)
    assert follower.settings is settings and follower.running_version is None
    assert caplog.records, "the operator is told why the copy was not used"
    assert (tmp_path / COPY_FILE).read_text(encoding="utf-8") == copy, "nothing is lost"


class NewerBackend(http.server.BaseHTTPRequestHandler):
    """A backend of a later release: its settings use a schema this kiosk does not know."""

    tag = '"newer-1"'
    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        NewerBackend.asked.append(self.headers.get("If-None-Match", ""))
        if self.tag in self.headers.get("If-None-Match", ""):
            self.send_response(304)
            self.send_header("ETag", self.tag)
            self.end_headers()
            return
        body = json.dumps(
            {
                "kiosk_id": KIOSK_ID,
                "location": "",
                "version": 9,
                "in_service": True,
                "settings": {"schema_version": SCHEMA + 1, "library": {"name": "Baru"}},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", self.tag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_settings_from_a_newer_backend_are_refused_once_and_the_last_good_copy_kept(
    steered_backend: BackendServer, tmp_path: Path
) -> None:
    data = tmp_path / "kiosk"
    settings = kiosk_settings(steered_backend, data)
    follower = SettingsFollower(settings, data)
    with BackendClient(settings.kiosk) as client:
        assert follower.fetch(client, KIOSK_ID) == "changed"
    good = follower.take_update()
    assert good is not None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NewerBackend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        newer = settings.with_overrides(
            kiosk={"backend_url": f"http://127.0.0.1:{server.server_address[1]}"}
        )
        with BackendClient(newer.kiosk) as client:
            assert follower.fetch(client, KIOSK_ID) == "refused"
            assert follower.fetch(client, KIOSK_ID) == "unchanged", "asked with its tag: 304"
    finally:
        server.shutdown()
        server.server_close()
    assert NewerBackend.asked[-1].count('"') == 4, "the last good tag and the refused one"
    assert follower.take_update() is None and follower.running_version == 0
    assert SettingsFollower(settings, data).settings == good.settings


def test_a_full_disk_keeps_the_new_settings_in_memory_and_the_old_copy_on_disk(
    steered_backend: BackendServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "kiosk"
    data.mkdir()
    settings = kiosk_settings(steered_backend, data)
    old = {"etag": '"old"', "answer": {"kiosk_id": KIOSK_ID, "location": "", "version": 0}}
    old["answer"].update(in_service=True, settings=steered_from(settings).model_dump(mode="json"))
    (data / COPY_FILE).write_text(json.dumps(old), encoding="utf-8")
    os.symlink("/dev/full", data / "settings.tmp")  # every write there: ENOSPC
    follower = SettingsFollower(settings, data)
    with caplog.at_level(logging.ERROR, logger="kiosk.steering"):
        with BackendClient(settings.kiosk) as client:
            assert follower.fetch(client, KIOSK_ID) == "changed"
    assert "not saved" in caplog.text
    update = follower.take_update()
    assert update is not None and update.settings.library.name == "Perpustakaan Cabang Sungailiat"
    assert json.loads((data / COPY_FILE).read_text(encoding="utf-8")) == old


def test_two_changes_fetched_before_one_welcome_are_both_applied(
    steered_backend: BackendServer, tmp_path: Path
) -> None:
    """High contrast saved, then the kiosk put out of service, both fetched before the next
    Welcome: the update carries both (the second fetch once replaced the first's)."""
    import datetime as dt

    from kiosk.backend.db import create_db_engine, write_session
    from kiosk.backend.kiosks import set_in_service
    from kiosk.backend.steering import versions
    from kiosk.config.steered import parse_steered

    data = tmp_path / "kiosk"
    settings = kiosk_settings(steered_backend, data)
    follower = SettingsFollower(settings, data)
    engine = create_db_engine(f"sqlite:///{steered_backend.database_path}", pool_size=1)
    try:
        with BackendClient(settings.kiosk) as client:
            assert follower.fetch(client, KIOSK_ID) == "changed"
            assert follower.take_update() is not None
            steered_backend.post("/kiosks/heartbeat", json={"kiosk_id": KIOSK_ID})
            with write_session(engine) as session:
                base = versions.version_of(session, 0)
                assert base is not None
                changed = base.data
                changed["screens"]["high_contrast"] = True
                now = dt.datetime.now(dt.UTC)
                versions.save(session, parse_steered(changed), 0, "admin", now)
            assert follower.fetch(client, KIOSK_ID) == "changed"
            with write_session(engine) as session:
                set_in_service(session, KIOSK_ID, False)
            assert follower.fetch(client, KIOSK_ID) == "changed"
    finally:
        engine.dispose()
    update = follower.take_update()
    assert update is not None
    assert (update.high_contrast, update.in_service) == (True, False)
