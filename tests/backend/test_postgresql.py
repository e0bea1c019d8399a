"""The same backend on PostgreSQL: migrations, check-ins, reuse and races on a throwaway cluster."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session
from support.backend_server import BackendServer, checkin_body, post_together
from support.needs import unavailable
from support.postgres_server import NoPostgreSQL, PostgreSQL, plain_url

from kiosk.backend.db import IDLE_PING_SECONDS, create_db_engine, write_session
from kiosk.backend.steering import versions
from kiosk.config import Settings

CONCURRENT = 20


@pytest.fixture(scope="module")
def pg_server(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackendServer]:
    directory = tmp_path_factory.mktemp("pg-backend")
    with BackendServer(directory, backend={"database_url": postgres_url}) as server:
        yield server


def test_migrations_and_a_checkin_work_on_postgresql(pg_server: BackendServer) -> None:
    health = pg_server.get("health").json()
    assert health["database"] == "ok"
    request = checkin_body("19000123")
    first = pg_server.post("checkins", json=request)
    assert first.status_code == 201, first.text
    assert first.json()["credential"]["reused"] is False
    assert pg_server.post("checkins", json=request).json() == first.json()
    again = pg_server.post("checkins", json=checkin_body("A19000123B"))
    assert again.json()["credential"]["reused"] is True
    expired = pg_server.post("checkins", json=checkin_body("19000124"))
    assert expired.json()["error"]["code"] == "member_expired"
    stats = pg_server.get("stats/today").json()
    assert stats["credentials_issued"] == 1


def test_concurrent_checkins_on_postgresql_make_one_credential(
    pg_server: BackendServer, postgres_url: str
) -> None:
    bodies = [checkin_body("19000101") for _ in range(CONCURRENT)]
    responses = post_together(pg_server, "checkins", bodies)
    assert [r.status_code for r in responses] == [201] * CONCURRENT
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        count = connection.execute(
            "SELECT count(*) FROM credentials WHERE member_id = '19000101'"
        ).fetchone()
    assert count == (1,)


def test_racing_replays_with_different_bodies_on_postgresql(pg_server: BackendServer) -> None:
    first = checkin_body("19000102", want_internet=False)
    bodies = [first] * (CONCURRENT // 2) + [
        {**first, "card": "19000103"} for _ in range(CONCURRENT // 2)
    ]
    responses = post_together(pg_server, "visits", bodies)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert set(codes) <= {200, 201, 409}


def test_backup_of_postgresql_uses_pg_dump(pg_server: BackendServer) -> None:
    if shutil.which("pg_dump") is None:
        unavailable("pg_dump (postgresql-client) not installed")
    destination = pg_server.dir / "kiosk.pgdump"
    result = pg_server.kiosk("backup", str(destination))
    assert "pg_dump --format=custom" in result.stdout
    assert destination.read_bytes().startswith(b"PGDMP")


def test_a_restarted_database_costs_no_request(tmp_path: Path) -> None:
    """PostgreSQL restarts (an upgrade, a failover) while the backend's pooled connections
    lie idle: they are dead, and the next check-ins and lookups still answer first time,
    because a connection unused for IDLE_PING_SECONDS is pinged before it is handed out."""
    try:
        cluster = PostgreSQL()
    except NoPostgreSQL as exc:
        unavailable(str(exc))
    cluster.start()  # its own cluster: the session's one serves tests running beside this
    try:
        url = cluster.new_database("restart")
        with BackendServer(tmp_path, backend={"database_url": url}) as server:
            for card in ("19000123", "19000104", "19000105"):  # several pooled connections
                assert server.post("checkins", json=checkin_body(card)).status_code == 201
            cluster.restart()
            time.sleep(IDLE_PING_SECONDS + 0.5)
            again = server.post("checkins", json=checkin_body("19000123"))
            assert again.status_code == 201, again.text
            assert again.json()["credential"]["reused"] is True
            assert server.post("members/lookup", json={"card": "19000104"}).status_code == 200
            assert server.post("checkins", json=checkin_body("19000106")).status_code == 201
    finally:
        cluster.close()


def test_connections_cut_while_pooled_cost_one_request_at_most(
    postgresql: PostgreSQL, tmp_path: Path
) -> None:
    """PostgreSQL drops the backend's connections (an administrator's
    pg_terminate_backend, a failover) less than IDLE_PING_SECONDS after they were last
    used, so no ping catches them: the first check-in that meets a dead one fails (the
    kiosk's outbox sends it again), and every connection pooled before it is retired with
    it, so the check-ins after it answer. The limits count in this process here, so the
    check-in's first statement is the desk's own, on the driver's cursor."""
    url = postgresql.new_database("cut")
    database = url.rsplit("/", 1)[1]
    with BackendServer(
        tmp_path, backend={"database_url": url, "shared_limits": "process"}
    ) as server:
        burst = post_together(server, "checkins", [checkin_body() for _ in range(8)])
        assert {response.status_code for response in burst} <= {200, 201}
        with psycopg.connect(plain_url(url.rsplit("/", 1)[0] + "/postgres")) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        assert cut is not None and cut[0] >= 2, "the burst pooled several connections"
        answers = [server.post("checkins", json=checkin_body()).status_code for _ in range(12)]
    failed = [status for status in answers if status not in (200, 201)]
    assert len(failed) <= 1, answers


def test_guest_vouchers_on_postgresql_take_the_issuing_lock(
    postgresql: PostgreSQL, tmp_path: Path
) -> None:
    """Guests' vouchers take the issuing lock through the ORM (lock_credential_issuing),
    members' credentials on the desk's own cursor: one ISSUING_LOCK statement, run for real
    by both while they race, and every one gets a username of its own."""
    url = postgresql.new_database("vouchers")
    guests = {"internet": "voucher", "vouchers_per_day": 50}
    with BackendServer(tmp_path, backend={"database_url": url}, guests=guests) as server:
        members = [checkin_body(card) for card in ("19000123", "19000104", "19000106")]
        visitors = [
            {
                "client_ref": str(uuid.uuid4()),
                "name": "Rina Maharani",
                "institution": "SMA Negeri 1 Pangkalpinang",
                "want_internet": True,
                "kiosk_id": "kiosk-pintu-utama",
                "occurred_at": members[0]["occurred_at"],
            }
            for _ in range(6)
        ]
        paths = ["checkins"] * len(members) + ["guest-visits"] * len(visitors)
        answers = post_together(server, paths, members + visitors)
    assert [answer.status_code for answer in answers] == [201] * len(paths), [
        answer.text for answer in answers
    ]
    usernames = [answer.json()["credential"]["username"] for answer in answers]
    assert len(set(usernames)) == len(usernames)


def test_two_saves_on_one_settings_version_on_postgresql_one_is_told_it_is_stale(
    pg_server: BackendServer, postgres_url: str
) -> None:
    """PostgreSQL does not serialise writers: the second save finds version 0 newest too,
    waits on the first's uncommitted version 1, and is then a stale save, not a 500."""
    engine = create_db_engine(postgres_url, pool_size=3)
    now = dt.datetime.now(dt.UTC)
    try:
        base = versions.current(engine, Settings(), now)
        outcome: list[str] = []

        def second() -> None:
            try:
                with write_session(engine) as session:
                    versions.save(session, base.document, base.number, "b", now, "b")
                outcome.append("saved")
            except versions.StaleVersion:
                outcome.append("stale")

        with Session(engine) as first, first.begin():
            versions.save(first, base.document, base.number, "a", now, "a")  # not committed
            waiter = threading.Thread(target=second)
            waiter.start()
            with psycopg.connect(plain_url(postgres_url)) as watcher:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # until the second insert waits on a lock
                    waiting = watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    ).fetchone()
                    if waiting and waiting[0]:
                        break
        waiter.join(timeout=30)
        assert outcome == ["stale"]
        assert [v.number for v in versions.history(engine)][:2] == [base.number + 1, base.number]
    finally:
        engine.dispose()
