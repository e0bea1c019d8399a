"""POST /satisfaction on the real server: a survey is kept once (201, replay 200), by day and
kiosk with the profile only, and every malformed survey is refused with 422."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from typing import Any

import pytest
from support.backend_server import JAKARTA, BackendServer


def survey(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_ref": str(uuid.uuid4()),
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": dt.datetime(2026, 11, 30, 23, 50, tzinfo=JAKARTA).isoformat(),
        "answers": {f"u{n}": 1 + n % 4 for n in range(1, 10)},
        "profile": {"occupation": "pelajar", "gender": "perempuan"},
    }
    body.update(overrides)
    return body


def test_a_survey_is_kept_once_by_day_and_kiosk_without_the_time(
    shared_server: BackendServer,
) -> None:
    body = survey()
    first = shared_server.post("/satisfaction", json=body)
    assert first.status_code == 201, first.text
    again = shared_server.post("/satisfaction", json=body)
    assert again.status_code == 200 and again.json()["client_ref"] == body["client_ref"]
    changed = dict(body, answers={"u1": 4})
    reused = shared_server.post("/satisfaction", json=changed)
    assert reused.status_code == 422, reused.text  # the SKM API: anything else is 422
    assert reused.json()["error"]["code"] == "client_ref_conflict"
    with sqlite3.connect(shared_server.database_path) as db:
        rows = db.execute(
            "SELECT kiosk_id, local_day, u1, u9, occupation, education, gender "
            "FROM satisfaction WHERE client_ref = ?",
            (body["client_ref"],),
        ).fetchall()
        columns = [c[1] for c in db.execute("PRAGMA table_info(satisfaction)")]
    assert rows == [("kiosk-pintu-utama", "2026-11-30", 2, 2, "pelajar", None, "perempuan")]
    assert not {"member_id", "occurred_at", "received_at"} & set(columns)


@pytest.mark.parametrize(
    "overrides",
    [
        {"answers": {}},
        {"answers": {"u10": 3}},
        {"answers": {"u1": 5}},
        {"answers": {"u1": 0}},
        {"answers": {"u1": "3"}},
        {"answers": {"u1": 2.5}},
        {"answers": {"u1": True}},
        {"profile": {"member_id": "19000123"}},
        {"profile": {"gender": ""}},
        {"occurred_at": "2026-11-30T10:00:00"},
        {"kiosk_id": "kiosk 1"},
        {"client_ref": "not-a-uuid"},
        {"member_id": "19000123"},
    ],
)
def test_a_malformed_survey_is_refused_with_422(
    shared_server: BackendServer, overrides: dict[str, Any]
) -> None:
    answer = shared_server.post("/satisfaction", json=survey(**overrides))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"
