"""`kiosk enroll BACKEND_URL CODE` against the real backend: the access goes to data_dir/access.json
(0600), never config.toml; wrong, used and mistyped codes change nothing; `kiosk doctor` knows an
enrolled kiosk, a revoked one, and one not enrolled yet."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import tomlkit
from support.backend_server import REPO, BackendServer, free_port

from kiosk.config import load_settings
from kiosk.protocol import HeartbeatRequest
from kiosk.terminal.access import AccessKeeper, read_access
from kiosk.terminal.client import BackendClient, BackendRejected


def kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )


def fresh_kiosk(tmp_path: Path, backend_url: str) -> Path:
    """A new kiosk's whole config: where the backend is, and the machine's own things."""
    path = tmp_path / "kiosk.toml"
    own = {"backend_url": backend_url, "data_dir": str(tmp_path / "var")}
    path.write_text(tomlkit.dumps({"kiosk": {**own, "scanner": {"camera": "none"}}}), "utf-8")
    return path


def test_enroll_keeps_the_access_in_data_dir_and_never_in_config_toml(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "server", members_csv=None) as server:
        config = fresh_kiosk(tmp_path, "http://127.0.0.1:1")
        before = config.read_bytes()
        code = server.kiosk("kiosks", "add", "lobi-2", "--location", "ruang-anak").stdout.strip()
        not_enrolled = kiosk(config, "doctor")
        assert "not enrolled" in not_enrolled.stdout and "kiosk enroll" in not_enrolled.stdout
        for wrong, words in (("ZZZZ-ZZZZ", "does not know this code"), ("K7QD", "not an")):
            refused = kiosk(config, "enroll", server.base_url, wrong)
            assert refused.returncode in (1, 2) and words in refused.stderr, refused.stderr
            assert "nothing changed" in refused.stderr
        unreachable = kiosk(config, "enroll", f"http://127.0.0.1:{free_port()}", code)
        assert unreachable.returncode == 1 and "cannot be reached" in unreachable.stderr
        assert not (tmp_path / "var" / "access.json").exists()
        # Typed as people do: lowercase, and the address without http://.
        done = kiosk(config, "enroll", server.base_url.removeprefix("http://"), code.lower())
        assert done.returncode == 0, done.stderr
        assert "enrolled as kiosk lobi-2 at location ruang-anak" in done.stdout
        path = tmp_path / "var" / "access.json"
        assert path.stat().st_mode & 0o777 == 0o600
        assert config.read_bytes() == before
        access = read_access(tmp_path / "var")
        assert access is not None and access.token not in config.read_text(encoding="utf-8")
        assert (access.kiosk_id, access.location) == ("lobi-2", "ruang-anak")
        # The kiosk runs with access.json's address, id and token over the file's.
        settings = AccessKeeper(load_settings(config)).settings
        assert settings.kiosk.backend_url == server.base_url
        assert (settings.kiosk.kiosk_id, settings.kiosk.api_token) == ("lobi-2", access.token)
        again = kiosk(config, "enroll", server.base_url, code)
        assert again.returncode == 1 and "used already" in again.stderr
        assert read_access(tmp_path / "var") == access
        enrolled = kiosk(config, "doctor")
        assert "enrolled as kiosk lobi-2, location ruang-anak" in enrolled.stdout
        assert "OK    backend" in enrolled.stdout, enrolled.stdout


def test_a_revoked_kiosk_forgets_its_access_and_wants_setup(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "server", members_csv=None) as server:
        config = fresh_kiosk(tmp_path, server.base_url)
        code = server.kiosk("kiosks", "add", "lobi-3").stdout.strip()
        assert kiosk(config, "enroll", server.base_url, code).returncode == 0
        keeper = AccessKeeper(load_settings(config))
        assert not keeper.setup_wanted
        admin = server.staff_browser(*add_admin(server))
        page = admin.get(server.base_url + "/staff/kiosks", timeout=10).text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        revoked = admin.post(
            server.base_url + "/staff/kiosks/revoke",
            data={"csrf": csrf, "kiosk_id": "lobi-3"},
            timeout=10,
        )
        assert revoked.status_code == 200
        # The token is refused within the backend's token cache (5 s): poll it, as staff would.
        client = BackendClient(keeper.settings.kiosk)
        deadline = time.monotonic() + 15
        while client_accepted(client):
            assert time.monotonic() < deadline, "a revoked token still works after 15 s"
            time.sleep(0.5)
        doctor = kiosk(config, "doctor")
        assert "revoked in the console" in doctor.stdout, doctor.stdout
        # A 401 on a call made with the enrolled token: access.json goes, setup is wanted.
        keeper.watch(client)
        assert not client_accepted(client)
        assert keeper.setup_wanted and read_access(tmp_path / "var") is None
        assert keeper.backend_url == server.base_url


def client_accepted(client: BackendClient) -> bool:
    try:
        client.heartbeat(HeartbeatRequest(kiosk_id="lobi-3"))
    except BackendRejected as exc:
        assert exc.status == 401
        return False
    return True


def add_admin(server: BackendServer) -> tuple[str, str]:
    import datetime as dt

    from kiosk.backend.console import accounts
    from kiosk.backend.db import create_db_engine, migrate, write_session

    engine = create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)
    try:
        migrate(engine)
        with write_session(engine) as session:
            accounts.add_account(
                session, "admin-tes", "kata-sandi-admin-7", "admin", dt.datetime.now(dt.UTC)
            )
    finally:
        engine.dispose()
    return "admin-tes", "kata-sandi-admin-7"
