"""End to end: a check-in through the kiosk API puts a credential on the network side that
really lets the patron in (FreeRADIUS answers Accept); with the network side down the check-in
gets 503 and nothing half-made stays; `kiosk provisioning sync` repairs both directions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support.backend_server import BackendServer, checkin_body
from support.radius_server import FreeRadiusServer
from support.routeros_fake import FakeRouterOS

from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.mikrotik import (
    PASSWORD_ENV,
    MikrotikProvisioner,
    parse_routeros_duration,
)

if TYPE_CHECKING:
    from provisioning.conftest import CredentialFactory

ACTIVE_CARD = "19000123"  # the demo's active member


def radcheck_users(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {name for (name,) in conn.execute("SELECT username FROM radcheck")}


def stats(server: BackendServer) -> dict[str, Any]:
    response = server.get("/stats/today")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.freeradius
def test_a_checkin_gives_a_credential_freeradius_accepts(
    radius_backend: BackendServer, freeradius: FreeRadiusServer
) -> None:
    response = radius_backend.post("/checkins", json=checkin_body(ACTIVE_CARD))
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    client = freeradius.client()
    answer, reply = client.answer(credential["username"], credential["password"])
    assert answer == "accept", freeradius.log_tail()
    assert reply["Session-Timeout"][0] > 0
    assert client.answer(credential["username"], credential["password"] + "x")[0] == "reject"


@pytest.mark.freeradius
def test_freeradius_database_locked_gives_503_and_leaves_nothing_half_made(
    radius_backend: BackendServer, freeradius: FreeRadiusServer, radius_db: Path
) -> None:
    body = checkin_body(ACTIVE_CARD)
    blocker = sqlite3.connect(radius_db)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        response = radius_backend.post("/checkins", json=body)
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "provisioning_unavailable"
    assert radcheck_users(radius_db) == set()
    assert stats(radius_backend)["visits"] == 0
    # The kiosk's retry of the same check-in, once the database is free, is a first answer.
    retry = radius_backend.post("/checkins", json=body)
    assert retry.status_code == 201, retry.text
    credential = retry.json()["credential"]
    assert radcheck_users(radius_db) == {credential["username"]}
    assert freeradius.client().answer(credential["username"], credential["password"])[0] == (
        "accept"
    )


@pytest.mark.freeradius
def test_provisioning_sync_repairs_freeradius_both_ways(
    radius_backend: BackendServer,
    freeradius: FreeRadiusServer,
    freeradius_sql: FreeRadiusSqlProvisioner,
    radius_db: Path,
    make_credential: CredentialFactory,
) -> None:
    response = radius_backend.post("/checkins", json=checkin_body(ACTIVE_CARD))
    credential = response.json()["credential"]
    # The patron's rows got lost (a restored backup, a staff member's clean-up) ...
    freeradius_sql.revoke(credential["username"])
    # ... and a user from an earlier day the backend has no active credential for is still there.
    freeradius_sql.issue(make_credential(username="porphan", password="orphan-pw"))
    with sqlite3.connect(radius_db) as conn:
        conn.execute("UPDATE kiosk_managed_user SET issued_at = '2026-01-05 08:00:00'")
    client = freeradius.client()
    assert client.answer(credential["username"], credential["password"])[0] == "reject"

    result = radius_backend.kiosk("provisioning", "sync")
    assert "created 1" in result.stdout and "removed 1" in result.stdout, result.stdout
    assert client.answer(credential["username"], credential["password"])[0] == "accept"
    assert client.answer("porphan", "orphan-pw")[0] == "reject"
    assert radcheck_users(radius_db) == {credential["username"]}


@pytest.fixture
def router_backend(tmp_path: Path, router: FakeRouterOS) -> Iterator[BackendServer]:
    server = BackendServer(
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
    )
    yield server
    server.stop()


def test_a_checkin_makes_a_hotspot_user_on_the_router(
    router_backend: BackendServer, router: FakeRouterOS
) -> None:
    response = router_backend.post("/checkins", json=checkin_body(ACTIVE_CARD))
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    user = router.hotspot_user(credential["username"])
    assert user is not None
    assert user["password"] == credential["password"]
    # The member's profile, made from the configured one with [internet.member]'s rules.
    assert user["profile"] == "perpustakaan-member"
    profile = router.user_profile("perpustakaan-member")
    assert profile is not None
    assert (profile["rate-limit"], profile["shared-users"], profile["idle-timeout"]) == (
        "1024k/2048k",
        "1",
        "15m",
    )
    assert parse_routeros_duration(user["limit-uptime"]) == 120 * 60


def test_router_down_gives_503_then_sync_repairs_both_ways(
    router_backend: BackendServer,
    router: FakeRouterOS,
    mikrotik: MikrotikProvisioner,
    make_credential: CredentialFactory,
) -> None:
    router.stop()
    refused = router_backend.post("/checkins", json=checkin_body(ACTIVE_CARD))
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "provisioning_unavailable"
    assert stats(router_backend)["visits"] == 0
    assert router_backend.kiosk("provisioning", "sync", check=False).returncode != 0

    router.start()  # the same port: the router is back, and got nothing half-made
    assert router.usernames() == set()
    response = router_backend.post("/checkins", json=checkin_body(ACTIVE_CARD))
    credential = response.json()["credential"]
    with router.state.lock:  # someone removed the patron's user on the router by hand
        router.state.users.clear()
    mikrotik.issue(make_credential(username="porphan", password="orphan-pw"))
    with router.state.lock:  # made on an earlier day
        (orphan,) = router.state.users.values()
        orphan["comment"] = orphan["comment"].split(" issued=")[0]

    result = router_backend.kiosk("provisioning", "sync")
    assert "created 1" in result.stdout and "removed 1" in result.stdout, result.stdout
    user = router.hotspot_user(credential["username"])
    assert user is not None and user["password"] == credential["password"]
    assert router.usernames() == {credential["username"]}
