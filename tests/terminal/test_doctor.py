"""`kiosk doctor` says what is wrong and what to do, and exits non-zero when anything is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomlkit
from support.backend_server import BackendServer

from kiosk.terminal.pin import hash_pin


def doctor(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def kiosk_config(tmp_path: Path, server: BackendServer, **kiosk: object) -> Path:
    document = {
        "kiosk": {
            "backend_url": server.base_url,
            "api_token": server.token,
            "data_dir": str(tmp_path / "var"),
            "scanner": {"camera": "none"},
            **kiosk,
        },
        "maintenance": {"pin_hash": hash_pin("2468", n=1024)},
    }
    path = tmp_path / "kiosk.toml"
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path


def test_doctor_finds_backend_pin_and_decoders_fine(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    result = doctor(kiosk_config(tmp_path, backend_server))
    lines = {
        line.split()[1]: line.split()[0]
        for line in result.stdout.splitlines()[:-1]
        if line[:4] in ("OK  ", "note", "FAIL")
    }
    assert lines["backend"] == "OK", result.stdout
    assert lines["staff"] == "OK", result.stdout
    assert lines["decoders"] == "OK", result.stdout
    assert lines["config"] == "OK", result.stdout


def test_doctor_says_what_to_do_about_a_wrong_token(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    result = doctor(kiosk_config(tmp_path, backend_server, api_token="wrong-token-0123456789"))
    assert result.returncode == 1
    assert "FAIL  backend" in result.stdout
    assert "api_token must be one of the backend's" in result.stdout


def test_doctor_says_what_to_do_when_the_backend_is_down(
    backend_server: BackendServer, tmp_path: Path
) -> None:
    config = kiosk_config(tmp_path, backend_server)
    backend_server.stop()
    result = doctor(config)
    assert result.returncode == 1
    assert "is `kiosk backend` running" in result.stdout
