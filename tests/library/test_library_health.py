"""The kiosk's view of the library's database, from the real backend's health answer."""

from __future__ import annotations

from pathlib import Path

from support.backend_server import BackendServer
from support.mariadb_server import Library, MariaDB

from kiosk.client import BackendClient
from kiosk.config import KioskSettings
from kiosk.library_health import library_state


def test_kiosk_sees_whether_the_library_answers_and_the_backlog(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
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
            mariadb.stop()
            try:
                # A lookup notices first; health then reports the copy serving.
                server.post("members/lookup", json={"card": "19000123"})
                health = client.health()
                state = library_state(health)
                assert health.ok, "the backend itself is fine"
                assert state is not None and not state.answers
                assert "local copy" in state.detail
            finally:
                mariadb.start()
