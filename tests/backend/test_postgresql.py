"""The same backend on PostgreSQL: migrations, check-ins, reuse and races on a throwaway cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from support.backend_server import BackendServer, checkin_body, free_port, post_together

CONCURRENT = 20

PG_BINARIES = ("initdb", "pg_ctl", "postgres")


def _as_postgres_user() -> list[str]:
    # initdb refuses to run as root; the postgres account runs the cluster then.
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' account to run PostgreSQL")
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    missing = [name for name in PG_BINARIES if shutil.which(name) is None]
    if missing:
        pytest.skip(f"PostgreSQL server binaries not found on PATH: {', '.join(missing)}")
    prefix = _as_postgres_user()
    base = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
    data = base / "data"
    if prefix:
        shutil.chown(base, "postgres")
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(
        [
            *prefix,
            "initdb",
            "-D",
            str(data),
            "-U",
            "kiosk",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        **run,  # type: ignore[call-overload]
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *prefix,
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "pg.log"),
            "-w",
            "start",
        ],
        **run,  # type: ignore[call-overload]
    )
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=kiosk dbname=postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE kiosk")
        yield f"postgresql+psycopg://kiosk@127.0.0.1:{port}/kiosk"
    finally:
        subprocess.run(
            [*prefix, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


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
        pytest.skip("pg_dump (postgresql-client) not installed")
    destination = pg_server.dir / "kiosk.pgdump"
    result = pg_server.kiosk("backup", str(destination))
    assert "pg_dump --format=custom" in result.stdout
    assert destination.read_bytes().startswith(b"PGDMP")
