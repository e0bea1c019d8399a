"""Maintenance shows whether the library's database (SLiMS) answers and how many visits wait,
with the real backend on a real MariaDB; photographed in both languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.backend_server import BackendServer, checkin_body
from support.mariadb_server import Library, MariaDB

from .conftest import Harness, settings_for

pytestmark = pytest.mark.ui
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_maintenance_says_the_library_database_is_down_and_visits_wait(
    mariadb: MariaDB, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19000601", "Rina Wati", "2031-01-31")
    slims = {"database_url": mariadb.url(library.slims), "record_visits": True}
    with BackendServer(
        tmp_path / "backend", members_csv=None, members={"source": "slims", "slims": slims}
    ) as server:
        kiosk = start_kiosk(settings_for(server, tmp_path / "k"))
        kiosk.app.open_maintenance()
        screen = kiosk.wait_screen("maintenance")
        kiosk.wait_for(
            lambda: (
                screen.library_text
                == kiosk.tr("maintenance.library_ok", system="SLiMS", waiting=0, failed=0)
            ),
            what="library answers",
        )
        assert server.post("members/lookup", json={"card": "19000601"}).status_code == 200
        mariadb.stop()
        try:
            server.post("members/lookup", json={"card": "19000601"})
            body = checkin_body("19000601", want_internet=False)
            assert server.post("visits", json=body).status_code == 201
            for language in ("id", "en"):
                kiosk.app.language = language
                screen.opened()
                down = kiosk.tr("maintenance.library_down", system="SLiMS", waiting=1, failed=0)
                kiosk.wait_for(lambda d=down: screen.library_text == d, what="library down")
                kiosk.screenshot(ARTIFACTS / f"maintenance-library-down-{language}.png")
        finally:
            mariadb.start()
