"""The RADIUS database (a real PostgreSQL) stopped while patrons check in: the kiosk still
issues, says so in one log line, and reconciliation writes the credential once the database
is back, after which the real FreeRADIUS lets the patron in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from support.backend_server import BackendServer, checkin_body
from support.hotspot_nas import HotspotNas
from support.needs import unavailable
from support.postgres_server import NoPostgreSQL, PostgreSQL, plain_url
from support.radius_server import MODULE_DIR, FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

RADIUS_TZ = "Asia/Jakarta"


@pytest.fixture
def cluster() -> Iterator[PostgreSQL]:
    """A PostgreSQL of this test's own: the test stops it."""
    try:
        server = PostgreSQL()
    except NoPostgreSQL as exc:
        unavailable(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.close()


def radcheck_users(url: str) -> set[str]:
    with psycopg.connect(plain_url(url)) as conn:
        return {name for (name,) in conn.execute("SELECT DISTINCT username FROM radcheck")}


@pytest.mark.freeradius
def test_with_the_radius_database_down_the_kiosk_still_issues_and_reconciliation_catches_up(
    cluster: PostgreSQL, tmp_path: Path
) -> None:
    reason = missing_reason()
    if reason or not (MODULE_DIR / "rlm_sql_postgresql.so").exists():
        unavailable(
            reason or "rlm_sql_postgresql.so missing (apt-get install freeradius-postgresql)"
        )
    url = cluster.new_database("radius")
    made = FreeRadiusSqlProvisioner(url, radius_timezone=RADIUS_TZ)
    made.check()  # the tables exist, as on a library's RADIUS server
    made.close()
    provisioning = {
        "kind": "freeradius-sql",
        "database_url": url,
        "radius_timezone": RADIUS_TZ,
        "reconcile_seconds": 3600,  # the test runs the round itself
    }
    with BackendServer(tmp_path / "backend", provisioning=provisioning) as backend:
        cluster.stop()
        response = backend.post("/checkins", json=checkin_body("19000123"))
        assert response.status_code == 201, response.text
        credential = response.json()["credential"]
        kept = f"credential {credential['username']} kept for reconciliation"
        assert kept in backend.log_tail(), backend.log_tail()
        assert credential["password"] not in backend.log_tail()

        cluster.resume()
        assert radcheck_users(url) == set()
        sync = backend.kiosk("provisioning", "sync")
        assert "created 1" in sync.stdout, sync.stdout + sync.stderr
        assert radcheck_users(url) == {credential["username"]}

    server = FreeRadiusServer(
        tmp_path / "raddb", tmp_path / "unused.db", tz=RADIUS_TZ, database_url=url
    )
    server.start()
    try:
        nas = HotspotNas(server.auth_port, server.acct_port, server.secret, tmp_path)
        accepted, _ = nas.login(credential["username"], credential["password"], "AA-BB-CC-0-0-1")
        assert accepted, server.log_tail()
    finally:
        server.stop()
