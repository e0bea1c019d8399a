"""Races against the real server: one credential per member, one visit per client_ref."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from support.backend_server import BackendServer, checkin_body, post_together

CONCURRENT = 20


def credentials_of(server: BackendServer, member_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(server.database_path) as db:
        rows = db.execute(
            "SELECT username, password FROM credentials WHERE member_id = ?", (member_id,)
        )
        return [(str(u), str(p)) for u, p in rows]


@pytest.mark.parametrize("workers", [1, 2])
def test_twenty_concurrent_checkins_of_one_member_make_exactly_one_credential(
    tmp_path: Path, workers: int
) -> None:
    with BackendServer(tmp_path / "backend", workers=workers) as server:
        bodies = [checkin_body("19000123") for _ in range(CONCURRENT)]
        responses = post_together(server, "checkins", bodies)
        assert [r.status_code for r in responses] == [201] * CONCURRENT
        shown = {
            (r.json()["credential"]["username"], r.json()["credential"]["password"])
            for r in responses
        }
        assert len(shown) == 1
        assert credentials_of(server, "19000123") == list(shown)
        reused = sorted(r.json()["credential"]["reused"] for r in responses)
        assert reused == [False] + [True] * (CONCURRENT - 1)


def test_racing_replays_of_one_client_ref_record_one_visit(backend_server: BackendServer) -> None:
    body = checkin_body("19000123")
    responses = post_together(backend_server, "checkins", [body] * CONCURRENT)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (CONCURRENT - 1) + [201]
    assert len({r.text for r in responses}) == 1  # every replay is the first answer
    with sqlite3.connect(backend_server.database_path) as db:
        visits = db.execute("SELECT count(*) FROM visits").fetchone()[0]
    assert visits == 1


def test_racing_replays_across_checkins_and_visits_record_one_visit(
    backend_server: BackendServer,
) -> None:
    body = checkin_body("19000101", want_internet=False)
    half = CONCURRENT // 2
    barrier_bodies = [body] * CONCURRENT
    results: list[requests.Response] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(post_together, backend_server, "checkins", barrier_bodies[:half])
        second = pool.submit(post_together, backend_server, "visits", barrier_bodies[half:])
        results = first.result() + second.result()
    assert sorted(r.status_code for r in results).count(201) == 1
    assert {r.status_code for r in results} <= {200, 201}
    assert len({r.json()["visit"]["received_at"] for r in results}) == 1
