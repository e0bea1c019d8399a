"""Revoking a credential in the staff console removes it from the network side too: the
radcheck rows FreeRADIUS reads (which then rejects the password) and the router's hotspot
user, through the console's own form (signed-in session, CSRF token)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from support.backend_server import BackendServer, checkin_body
from support.radius_server import FreeRadiusServer
from support.routeros_fake import FakeRouterOS

from kiosk.backend.provisioning.mikrotik import PASSWORD_ENV

STAFF = ("pustakawan", "kata-sandi-admin-1")


def revoke_in_console(server: BackendServer, username: str) -> str:
    server.kiosk_with_input(f"{STAFF[1]}\n{STAFF[1]}\n", "staff", "add", STAFF[0])
    browser = server.staff_browser(*STAFF)
    page = browser.get(f"{server.base_url}/staff/credentials", timeout=10).text
    assert username in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = browser.post(
        f"{server.base_url}/staff/credentials/revoke",
        data={"csrf": csrf, "username": username},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.text


@pytest.mark.freeradius
def test_console_revoke_removes_radcheck_rows_and_freeradius_rejects(
    radius_backend: BackendServer, freeradius: FreeRadiusServer, radius_db: Path
) -> None:
    credential = radius_backend.post("/checkins", json=checkin_body("19000123")).json()[
        "credential"
    ]
    client = freeradius.client()
    assert client.answer(credential["username"], credential["password"])[0] == "accept"
    page = revoke_in_console(radius_backend, credential["username"])
    assert "juga di jaringan" in page
    with sqlite3.connect(radius_db) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM radcheck WHERE username = ?", (credential["username"],)
        ).fetchone()[0]
    assert rows == 0
    assert client.answer(credential["username"], credential["password"])[0] == "reject"


def test_console_revoke_removes_the_routers_hotspot_user(
    tmp_path: Path, router: FakeRouterOS
) -> None:
    with BackendServer(
        tmp_path / "backend",
        provisioning={
            "kind": "mikrotik-rest",
            "mikrotik": {
                "url": router.url,
                "user": router.user,
                "profile": "perpustakaan",
                "ca_file": str(router.tls.ca_file),
                "timeout": 2.0,
            },
        },
        env={PASSWORD_ENV: router.password},
    ) as server:
        credential = server.post("/checkins", json=checkin_body("19000123")).json()["credential"]
        assert router.hotspot_user(credential["username"]) is not None
        revoke_in_console(server, credential["username"])
        assert router.hotspot_user(credential["username"]) is None
        assert (
            server.post("/members/lookup", json={"card": "19000123"}).json()["has_credential"]
            is False
        )
