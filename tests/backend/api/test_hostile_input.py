"""Hostile request bodies (issue 11): non-finite answers, times off the calendar, forged
log lines. The real server and its SQLite file; nothing may be written for a refused body."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.backend_server import JAKARTA, BackendServer, checkin_body


def guest_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_ref": str(uuid.uuid4()),
        "name": "Siti Nur'aini",
        "answers": {"purpose": "membaca"},
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": dt.datetime.now(dt.UTC).astimezone(JAKARTA).isoformat(),
    }
    body.update(overrides)
    return body


BODIES = {"visits": checkin_body, "checkins": checkin_body, "guest-visits": guest_body}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(tmp_path_factory.mktemp("hostile-backend")) as backend:
        yield backend


def written(server: BackendServer) -> tuple[int, int, int]:
    """Visits, credentials and guest visits in the database file."""
    with sqlite3.connect(server.database_path) as db:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("visits", "credentials", "guest_visits")
        )


def post_raw(server: BackendServer, path: str, text: str) -> requests.Response:
    headers = {**server.headers, "Content-Type": "application/json"}
    return requests.post(server.url(path), data=text.encode(), headers=headers, timeout=10)


def assert_invalid(response: requests.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"], error


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("token", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_non_finite_answers_are_refused_before_anything_is_written(
    server: BackendServer, path: str, token: str
) -> None:
    body = BODIES[path]()
    text = json.dumps(body).replace('"answers": {', f'"answers": {{"score": {token}, ', 1)
    before = written(server)
    assert_invalid(post_raw(server, path, text), "answers.score")
    assert written(server) == before
    # The member's lookup still answers (nothing unanswerable was stored).
    assert server.post("members/lookup", {"card": "19000123"}).status_code == 200


def test_finite_numbers_in_answers_still_pass(server: BackendServer) -> None:
    response = server.post("visits", checkin_body(answers={"age": 17, "score": 2.5}))
    assert response.status_code == 201, response.text
    assert response.json()["visit"]["answers"] == {"age": 17, "score": 2.5}


OFF_THE_CALENDAR = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    0,
    -1,
    1_000_000_000,  # 2001, as a number of seconds
]


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("when", OFF_THE_CALENDAR)
def test_occurred_at_off_the_calendar_is_refused(
    server: BackendServer, path: str, when: Any
) -> None:
    before = written(server)
    assert_invalid(server.post(path, BODIES[path](occurred_at=when)), "occurred_at")
    assert written(server) == before


@pytest.mark.parametrize("path", sorted(BODIES))
def test_occurred_at_older_than_retention_is_refused(server: BackendServer, path: str) -> None:
    old = dt.datetime.now(JAKARTA) - dt.timedelta(days=366)
    before = written(server)
    assert_invalid(server.post(path, BODIES[path](occurred_at=old.isoformat())), "occurred_at")
    assert written(server) == before


def test_a_week_old_visit_is_kept_and_the_future_is_today(server: BackendServer) -> None:
    week = dt.datetime.now(JAKARTA) - dt.timedelta(days=7)
    kept = server.post("visits", checkin_body(occurred_at=week.isoformat()))
    assert kept.status_code == 201, kept.text
    stored = dt.datetime.fromisoformat(kept.json()["visit"]["occurred_at"])
    assert abs(stored - week) < dt.timedelta(seconds=1)
    future = dt.datetime.now(JAKARTA) + dt.timedelta(days=3000)
    clamped = server.post("visits", checkin_body(occurred_at=future.isoformat()))
    assert clamped.status_code == 201, clamped.text
    stored = dt.datetime.fromisoformat(clamped.json()["visit"]["occurred_at"])
    assert abs(stored - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "kiosk_id",
    [
        "kiosk\r\n2026-12-01 10:00:00,000 INFO kiosk.backend forged",
        "kiosk\x00nul",
        "kiosk\x1b[31mred",
        "kiosk pintu",
        "k" * 65,
    ],
)
@pytest.mark.parametrize("path", sorted(BODIES))
def test_unsafe_kiosk_ids_are_refused(server: BackendServer, path: str, kiosk_id: str) -> None:
    before = written(server)
    assert_invalid(server.post(path, BODIES[path](kiosk_id=kiosk_id)), "kiosk_id")
    assert written(server) == before
    heartbeat = server.post("kiosks/heartbeat", {"kiosk_id": kiosk_id})
    assert_invalid(heartbeat, "kiosk_id")


def test_safe_kiosk_ids_still_pass(server: BackendServer) -> None:
    for kiosk_id in ("kiosk-pintu-utama", "lantai_2.barat:1", "K1"):
        response = server.post("visits", checkin_body(kiosk_id=kiosk_id))
        assert response.status_code == 201, response.text


def test_no_logged_value_forges_a_line(server: BackendServer) -> None:
    """A guest's name may hold any printable text; what reaches backend.log stays on its
    own line whatever the request carried (an unknown path with CR/LF, a bad token)."""
    log_file = server.dir / "log" / "backend.log"
    marker = uuid.uuid4().hex
    forged = f"x%0d%0a2026-12-01 10:00:00,000 INFO kiosk.backend FORGED-{marker}"
    requests.get(f"{server.api_url}/{forged}", headers=server.headers, timeout=10)
    requests.get(
        server.url("stats/today"),
        headers={"Authorization": f"Bearer {marker}\x1b[2J"},
        timeout=10,
    )
    name = f"Budi \u202e{marker}"
    response = server.post("guest-visits", guest_body(name=name))
    assert response.status_code == 201, response.text
    server.stop()
    server.start()
    text = log_file.read_text(encoding="utf-8")
    for line in text.splitlines():
        assert not line.startswith("2026-12-01 10:00:00,000 INFO kiosk.backend FORGED")
        assert "\x1b" not in line and "\x00" not in line and "\u202e" not in line


def test_a_non_finite_answer_stored_before_the_fix_does_not_break_the_lookup(
    server: BackendServer,
) -> None:
    """Databases written before non-finite answers were refused may hold one: the member's
    lookup answers, with that answer empty."""
    body = checkin_body(card="19000124", want_internet=False)
    assert server.post("visits", body).status_code == 201
    with sqlite3.connect(server.database_path) as db:
        db.execute(
            "UPDATE visits SET answers = ? WHERE client_ref = ?",
            ('{"purpose": "membaca", "score": Infinity, "n": NaN}', body["client_ref"]),
        )
    response = server.post("members/lookup", {"card": "19000124"})
    assert response.status_code == 200, response.text
    assert response.json()["last_answers"] == {"purpose": "membaca", "score": None, "n": None}
