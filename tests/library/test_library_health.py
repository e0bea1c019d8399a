"""The kiosk's view of the library's database (client health, `kiosk doctor`), from the real
backend on a real MariaDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomlkit
from support.backend_server import BackendServer, checkin_body
from support.mariadb_server import Library, MariaDB

from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient
from kiosk.terminal.library_health import library_state


def doctor(tmp_path: Path, server: BackendServer) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "kiosk.toml"
    kiosk = {
        "backend_url": server.base_url,
        "api_token": server.token,
        "data_dir": str(tmp_path / "kiosk-var"),
        "scanner": {"camera": "none"},
    }
    config.write_text(tomlkit.dumps({"kiosk": kiosk}), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_kiosk_sees_whether_the_library_answers_and_the_backlog(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19000501", "Rina Wati", "2031-01-31")
    slims = {"database_url": mariadb.url(library.slims), "record_visits": True}
    with BackendServer(
        tmp_path, members_csv=None, members={"source": "slims", "slims": slims}
    ) as server:
        kiosk = KioskSettings(backend_url=server.base_url, api_token=server.token)
        with BackendClient(kiosk) as client:
            health = client.health()
            state = library_state(health)
            assert health.ok and state is not None
            assert (state.system, state.answers, state.waiting, state.failed) == (
                "slims",
                True,
                0,
                0,
            )
            assert server.post("members/lookup", json={"card": "19000501"}).status_code == 200
            mariadb.stop()
            try:
                # A lookup notices first; health then reports the copy serving.
                server.post("members/lookup", json={"card": "19000501"})
                body = checkin_body("19000501", want_internet=False)
                assert server.post("visits", json=body).status_code == 201
                health = client.health()
                state = library_state(health)
                assert health.ok, "the backend itself is fine"
                assert state is not None and not state.answers and state.waiting == 1
                assert "local copy" in state.detail
                result = doctor(tmp_path, server)
            finally:
                mariadb.start()
    line = next(x for x in result.stdout.splitlines() if "library database" in x)
    assert line.startswith("FAIL"), result.stdout
    assert "SLiMS does not answer" in line and "1 visit(s) waiting" in line
    assert "is the library's MariaDB/MySQL server up?" in result.stdout
    backend = next(x for x in result.stdout.splitlines() if x.split()[1:2] == ["backend"])
    assert backend.startswith("OK"), result.stdout
