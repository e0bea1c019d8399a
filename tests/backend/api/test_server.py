"""The backend as operators run it: start-up refusals, files, restarts, logs, limits."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import tomlkit
from support.backend_server import BackendServer, checkin_body, free_port

REPO = Path(__file__).resolve().parents[3]


def run_kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_backend_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        tomlkit.dumps({"backend": {"database_url": f"sqlite:///{tmp_path / 'k.db'}"}}),
        encoding="utf-8",
    )
    result = run_kiosk("backend", "--config", str(config), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2
    assert "api_tokens is empty" in result.stderr
    assert "16 characters" in result.stderr


def test_short_token_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(tomlkit.dumps({"backend": {"api_tokens": ["short"]}}), encoding="utf-8")
    result = run_kiosk("backend", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "backend.api_tokens" in result.stderr
    assert "at least 16 characters" in result.stderr


def test_default_database_is_created_owner_only_under_var(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    token = "a-token-of-enough-length"
    config.write_text(
        tomlkit.dumps({"backend": {"api_tokens": [token], "log_dir": str(tmp_path / "log")}}),
        encoding="utf-8",
    )
    csv = REPO / "assets" / "demo" / "members.csv"
    result = run_kiosk("members", "import", str(csv), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    database = tmp_path / "var" / "kiosk.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_data_survives_a_restart_and_a_kill(backend_server: BackendServer) -> None:
    first = backend_server.post("checkins", json=checkin_body("19000123"))
    assert first.status_code == 201
    backend_server.stop()
    backend_server.start()
    again = backend_server.post("checkins", json=checkin_body("19000123"))
    assert again.json()["credential"]["password"] == first.json()["credential"]["password"]
    backend_server.kill()
    backend_server.start()
    replay = backend_server.post("checkins", json=checkin_body("19000123"))
    assert replay.json()["credential"]["reused"] is True


def test_a_paused_server_accepts_but_never_replies(backend_server: BackendServer) -> None:
    backend_server.pause()
    try:
        with pytest.raises(requests.ReadTimeout):
            requests.get(backend_server.url("health"), timeout=(2, 0.5))
    finally:
        backend_server.resume()
    assert requests.get(backend_server.url("health"), timeout=5).status_code == 200


def test_logs_never_hold_a_password_or_token(backend_server: BackendServer) -> None:
    issued = backend_server.post("checkins", json=checkin_body("19000123")).json()["credential"]
    backend_server.post("members/lookup", json={"card": "19000123"})
    requests.get(backend_server.url("stats/today"), headers={"Authorization": "Bearer nope"})
    backend_server.stop()
    logs = backend_server.log_path.read_text(encoding="utf-8")
    logs += (backend_server.dir / "log" / "backend.log").read_text(encoding="utf-8")
    assert "checkin member=19000123" in logs
    assert issued["password"] not in logs
    assert backend_server.token not in logs
    assert "POST /api/v1/checkins 201" in logs


def test_rate_limit_per_token_answers_429_with_retry_after(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "b", backend={"rate_limit_per_minute": 3}) as server:
        codes = [server.get("stats/today").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = server.get("stats/today")
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        # Health is not rate limited: kiosks poll it.
        assert requests.get(server.url("health"), timeout=5).status_code == 200


def test_backup_copies_the_live_database(backend_server: BackendServer) -> None:
    assert backend_server.post("visits", json=checkin_body("19000123")).status_code == 201
    destination = backend_server.dir / "backups" / "kiosk-backup.db"
    result = backend_server.kiosk("backup", str(destination))
    assert "SQLite online backup" in result.stdout
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    with sqlite3.connect(destination) as db:
        assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 26
    refused = backend_server.kiosk("backup", str(destination), check=False)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr


def test_provisioning_down_gives_503_and_records_nothing(tmp_path: Path) -> None:
    router = {"url": f"https://127.0.0.1:{free_port()}", "user": "kiosk", "password": "x"}
    router["timeout"] = 2.0  # type: ignore[assignment]
    with BackendServer(
        tmp_path / "b", provisioning={"kind": "mikrotik-rest", "mikrotik": router}
    ) as server:
        health = requests.get(server.url("health"), timeout=10).json()
        assert health["status"] == "degraded"
        assert "unavailable" in health["provisioning"]
        request = checkin_body("19000123")
        response = server.post("checkins", json=request)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "provisioning_unavailable"
        with sqlite3.connect(server.database_path) as db:
            assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM credentials").fetchone()[0] == 0
        # A plain visit does not need the network side.
        plain = server.post("checkins", json={**request, "want_internet": False})
        assert plain.status_code == 201


def test_members_import_while_the_backend_runs(backend_server: BackendServer) -> None:
    csv = backend_server.dir / "more.csv"
    csv.write_text(
        "member_id;name;status;expires_on\n19000999;Lim Bun Hin;active;31/12/2030\n",
        encoding="utf-8-sig",
    )
    backend_server.import_members(csv)
    found = backend_server.post("members/lookup", json={"card": "19000999"})
    assert found.json()["member"]["name"] == "Lim Bun Hin"
    assert found.json()["member"]["expires_on"] == "2030-12-31"


def test_provisioning_sync_runs_reconciliation_once(backend_server: BackendServer) -> None:
    result = backend_server.kiosk("provisioning", "sync")
    assert "provisioning sync (local)" in result.stdout


def test_rate_limit_holds_for_the_backend_not_per_process(tmp_path: Path) -> None:
    """Two backend processes on one database (as two workers, or two instances behind the
    proxy), requests alternating between them: together they pass the limit once. Each
    process kept its own bucket before, and twice the rate passed."""
    shared = {
        "rate_limit_per_minute": 20,
        "database_url": f"sqlite:///{tmp_path / 'one.db'}",
        "shared_limits": "database",  # two processes on one SQLite file: as two workers
    }
    with (
        BackendServer(tmp_path / "a", backend=shared) as first,
        BackendServer(tmp_path / "b", backend=shared) as second,
    ):
        codes = [(first, second)[n % 2].get("stats/today").status_code for n in range(40)]
    assert codes.count(200) == 20, codes
    assert codes[20:] == [429] * 20


def test_two_sqlite_workers_together_never_pass_the_limit(tmp_path: Path) -> None:
    """On SQLite each of N workers counts its share (limit / N) in memory: together they pass
    at most the limit, without a database write per request."""
    with BackendServer(tmp_path / "b", workers=2, backend={"rate_limit_per_minute": 20}) as server:
        codes = [server.get("stats/today").status_code for _ in range(40)]
    assert 10 <= codes.count(200) <= 20, codes
    assert set(codes) == {200, 429}
