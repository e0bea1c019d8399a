"""POST /guest-visits and the [guests] voucher policy against the real server and SQLite file."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.backend_server import JAKARTA, BackendServer, checkin_body

from kiosk.backend.db import create_db_engine, read_session, write_session
from kiosk.backend.desk.credentials import (
    PASSWORD_ALPHABET,
    active_credentials,
    expired_credentials,
    revoke_credential,
)


def guest_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_ref": str(uuid.uuid4()),
        "name": "Siti Nur'aini Hasibuan-Lubis",
        "institution": "SMA Negeri 3 Medan",
        "answers": {"purpose": "membaca", "occupation": "pelajar", "gender": "perempuan"},
        "want_internet": False,
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": dt.datetime.now(dt.UTC).astimezone(JAKARTA).isoformat(),
    }
    body.update(overrides)
    return body


def error_of(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


def guest_rows(server: BackendServer) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database_path) as db:
        return db.execute(
            "SELECT name, group_size, username, pending FROM guest_visits ORDER BY id"
        ).fetchall()


@pytest.fixture(scope="module")
def voucher_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(
        tmp_path_factory.mktemp("guest-backend"),
        guests={"internet": "voucher", "voucher_hours": 2, "vouchers_per_day": 2},
    ) as server:
        yield server


def test_a_guest_visit_is_recorded_once_and_replayed(shared_server: BackendServer) -> None:
    body = guest_body()
    first = shared_server.post("guest-visits", body)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["credential"] is None
    visit = answer["visit"]
    assert visit["name"] == body["name"] and visit["group_size"] == 1
    assert visit["institution"] == "SMA Negeri 3 Medan"
    again = shared_server.post("guest-visits", body)
    assert again.status_code == 200
    assert again.json() == answer
    changed = shared_server.post("guest-visits", {**body, "name": "Someone Else"})
    assert error_of(changed) == (409, "client_ref_conflict")


def test_client_refs_are_one_namespace_with_member_visits(shared_server: BackendServer) -> None:
    member = checkin_body(want_internet=False)
    assert shared_server.post("visits", member).status_code == 201
    guest = guest_body(client_ref=member["client_ref"])
    assert error_of(shared_server.post("guest-visits", guest)) == (409, "client_ref_conflict")
    guest = guest_body()
    assert shared_server.post("guest-visits", guest).status_code == 201
    member = checkin_body(client_ref=guest["client_ref"])
    assert error_of(shared_server.post("checkins", member)) == (409, "client_ref_conflict")
    assert error_of(shared_server.post("visits", member)) == (409, "client_ref_conflict")


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("name", "", "name"),
        ("name", "x" * 81, "name"),
        ("name", "Budi\nSantoso", "control characters"),
        ("name", "Budi\x00", "control characters"),
        ("name", " Budi", "spaces"),
        ("institution", "Sekolah\tX", "control characters"),
        ("group_size", 0, "group_size"),
        ("group_size", 501, "group_size"),
        ("occurred_at", "2026-11-28T09:30:00", "UTC offset"),
        ("card", "19000123", "unknown field"),
    ],
)
def test_bad_guest_bodies_get_a_clear_message(
    shared_server: BackendServer, field: str, value: Any, named: str
) -> None:
    response = shared_server.post("guest-visits", guest_body(**{field: value}))
    assert error_of(response) == (422, "invalid_request")
    assert named in response.json()["error"]["message"]


def test_an_80_character_name_with_indonesian_letters_is_kept(shared_server: BackendServer) -> None:
    name = ("Ni Luh Putu Ayu Ratnadewi Ṣalāḥuddīn É'é-" * 2)[:80].rstrip()
    response = shared_server.post("guest-visits", guest_body(name=name, group_size=500))
    assert response.status_code == 201, response.text
    assert response.json()["visit"]["name"] == name


def test_guest_visits_need_the_token_and_share_the_body_limit(shared_server: BackendServer) -> None:
    response = requests.post(shared_server.url("guest-visits"), json=guest_body(), timeout=5)
    assert error_of(response) == (401, "unauthorized")
    huge = guest_body(answers={f"k{i}": "x" * 2000 for i in range(32)})
    assert error_of(shared_server.post("guest-visits", huge))[0] in (413, 422)


def test_no_internet_for_guests_by_default(shared_server: BackendServer) -> None:
    body = guest_body(want_internet=True)
    refused = shared_server.post("guest-visits", body)
    assert error_of(refused) == (403, "guest_internet_unavailable")
    # Nothing was kept: the kiosk sends the same visit without internet under the same ref.
    kept = shared_server.post("guest-visits", {**body, "want_internet": False})
    assert kept.status_code == 201


def test_vouchers_follow_the_policy_and_the_daily_cap(voucher_server: BackendServer) -> None:
    before = voucher_server.get("stats/today").json()
    given = []
    for _ in range(2):
        response = voucher_server.post("guest-visits", guest_body(want_internet=True))
        assert response.status_code == 201, response.text
        given.append(response.json()["credential"])
    for credential in given:
        assert set(credential["password"]) <= set(PASSWORD_ALPHABET)
        expires = dt.datetime.fromisoformat(credential["expires_at"])
        hours = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 3600
        assert 1.9 < hours <= 2.0
    assert given[0]["username"] != given[1]["username"]
    over = guest_body(want_internet=True)
    assert error_of(voucher_server.post("guest-visits", over)) == (
        403,
        "guest_internet_unavailable",
    )
    other_kiosk = guest_body(want_internet=True, kiosk_id="kiosk-lantai-2")
    assert voucher_server.post("guest-visits", other_kiosk).json()["credential"] is not None
    without = voucher_server.post("guest-visits", {**over, "want_internet": False})
    assert without.status_code == 201 and without.json()["credential"] is None
    group = guest_body(name="Bu Rina", institution="SD Negeri 5", group_size=31)
    assert voucher_server.post("guest-visits", group).status_code == 201
    after = voucher_server.get("stats/today").json()
    assert after["guests"] - before["guests"] == 3 + 1 + 31
    assert after["groups"] - before["groups"] == 1
    assert after["visits"] == before["visits"]  # members are counted apart
    rows = guest_rows(voucher_server)
    assert sum(1 for row in rows if row[2] is not None) == 3
    assert all(row[3] == 0 for row in rows)


def test_a_guest_voucher_is_revoked_like_a_members(voucher_server: BackendServer) -> None:
    body = guest_body(want_internet=True, kiosk_id="kiosk-lantai-3")
    credential = voucher_server.post("guest-visits", body).json()["credential"]
    engine = create_db_engine(f"sqlite:///{voucher_server.database_path}")
    now = dt.datetime.now(dt.UTC)
    with read_session(engine) as session:
        active = {c.username for c in active_credentials(session, now)}
    assert credential["username"] in active  # reconciliation hands it to the network side
    with write_session(engine) as session:
        assert revoke_credential(session, credential["username"]) == 1
    with read_session(engine) as session:
        gone = {c.username for c in expired_credentials(session, now)}
    engine.dispose()
    assert credential["username"] in gone
    with sqlite3.connect(voucher_server.database_path) as db:
        (revoked,) = db.execute(
            "SELECT revoked FROM guest_visits WHERE username = ?", (credential["username"],)
        ).fetchone()
    assert revoked == 1


def test_the_guest_table_comes_from_the_migration(tmp_path: Path) -> None:
    with BackendServer(tmp_path / "b", members_csv=None) as server:
        assert server.post("guest-visits", guest_body()).status_code == 201
        assert len(guest_rows(server)) == 1
