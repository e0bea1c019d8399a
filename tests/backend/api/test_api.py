"""The HTTP contract of ARCHITECTURE.md, row by row, against the real server."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from support.backend_server import BackendServer
from support.backend_server import checkin_body as make_body

from kiosk.backend.desk.credentials import PASSWORD_ALPHABET

LOOKALIKES = set("0Oo1lIizZsSqQuvUV")
Body = Callable[..., dict[str, Any]]


def error_of(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    return response.status_code, body["error"]["code"]


def count_rows(server: BackendServer, table: str) -> int:
    with sqlite3.connect(server.database_path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# ---------------------------------------------------------------- health and auth


def test_health_answers_without_a_token(shared_server: BackendServer) -> None:
    response = requests.get(shared_server.url("health"), timeout=5)
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["database"] == "ok"
    assert health["provisioning"] == "local: ok"
    assert health["version"]


def test_every_other_endpoint_needs_a_bearer_token(shared_server: BackendServer) -> None:
    calls = [
        ("post", "members/lookup", {"card": "19000123"}),
        ("post", "checkins", make_body()),
        ("post", "visits", make_body()),
        ("get", "stats/today", None),
    ]
    for method, path, json in calls:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": "Basic abc"},
        ):
            response = requests.request(
                method, shared_server.url(path), json=json, headers=headers, timeout=5
            )
            assert error_of(response) == (401, "unauthorized"), (path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_missing_token_is_refused_before_the_body_is_read(shared_server: BackendServer) -> None:
    response = requests.post(shared_server.url("checkins"), data=b"{not json", timeout=5)
    assert error_of(response) == (401, "unauthorized")


# ---------------------------------------------------------------- error envelope


def test_unknown_path_gets_the_error_envelope(shared_server: BackendServer) -> None:
    assert error_of(shared_server.get("no-such-thing")) == (404, "not_found")
    response = requests.get(f"{shared_server.base_url}/nowhere", timeout=5)
    assert error_of(response) == (404, "not_found")


def test_wrong_method_gets_405_in_the_envelope(shared_server: BackendServer) -> None:
    response = shared_server.get("checkins")
    assert error_of(response) == (405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_invalid_request(shared_server: BackendServer) -> None:
    response = requests.post(
        shared_server.url("checkins"),
        data=b'{"client_ref": "abc",',
        headers={**shared_server.headers, "Content-Type": "application/json"},
        timeout=5,
    )
    assert error_of(response) == (422, "invalid_request")
    assert "JSON" in response.json()["error"]["message"]


def test_a_json_array_is_not_a_request(shared_server: BackendServer) -> None:
    response = shared_server.post("checkins", json=[1, 2])
    assert error_of(response) == (422, "invalid_request")
    assert "JSON object" in response.json()["error"]["message"]


def test_missing_field_is_named_in_the_message(shared_server: BackendServer, body: Body) -> None:
    request = body()
    del request["kiosk_id"]
    response = shared_server.post("checkins", json=request)
    assert error_of(response) == (422, "invalid_request")
    assert "kiosk_id" in response.json()["error"]["message"]


def test_naive_occurred_at_is_invalid_request(shared_server: BackendServer, body: Body) -> None:
    response = shared_server.post("checkins", json=body(occurred_at="2026-11-28T09:30:00"))
    assert error_of(response) == (422, "invalid_request")
    assert "occurred_at" in response.json()["error"]["message"]


def test_unknown_field_is_invalid_request(shared_server: BackendServer, body: Body) -> None:
    response = shared_server.post("visits", json=body(extra_field=1))
    assert error_of(response) == (422, "invalid_request")
    assert "extra_field" in response.json()["error"]["message"]


def test_body_over_the_limit_gets_413(shared_server: BackendServer) -> None:
    response = shared_server.post("members/lookup", json={"card": "1" * 20_000})
    assert error_of(response) == (413, "payload_too_large")


def test_chunked_body_over_the_limit_gets_413(shared_server: BackendServer) -> None:
    def chunks() -> object:
        yield b'{"card": "'
        for _ in range(40):
            yield b"9" * 1000
        yield b'"}'

    response = requests.post(
        shared_server.url("members/lookup"),
        data=chunks(),
        headers={**shared_server.headers, "Content-Type": "application/json"},
        timeout=5,
    )
    assert error_of(response) == (413, "payload_too_large")


def test_answers_over_the_size_limit_are_refused_and_not_recorded(
    shared_server: BackendServer, body: Body
) -> None:
    request = body(want_internet=False, answers={f"k{i}": "x" * 300 for i in range(20)})
    response = shared_server.post("visits", json=request)
    assert error_of(response) == (422, "invalid_request")
    assert "answers" in response.json()["error"]["message"]
    replay = shared_server.post("visits", json={**request, "answers": {}})
    assert replay.status_code == 201  # the refused one left no client_ref behind


# ---------------------------------------------------------------- lookup


def test_lookup_finds_an_active_member_by_codabar_card(shared_server: BackendServer) -> None:
    response = shared_server.post("members/lookup", json={"card": " a19000123b "})
    assert response.status_code == 200
    answer = response.json()
    assert answer["member"] == {
        "id": "19000123",
        "name": "Siti Aminah",
        "status": "active",
        "expires_on": "2099-12-31",
    }
    assert isinstance(answer["has_credential"], bool)


def test_lookup_reports_expired_and_blocked_members(shared_server: BackendServer) -> None:
    statuses = {
        card: shared_server.post("members/lookup", json={"card": card}).json()["member"]["status"]
        for card in ("19000124", "19000125", "19000112")
    }
    # 19000112's file says active, but its expires_on (2025-12-31) is past: expired wins.
    assert statuses == {"19000124": "expired", "19000125": "blocked", "19000112": "expired"}


def test_lookup_of_an_unknown_member_is_member_not_found(shared_server: BackendServer) -> None:
    response = shared_server.post("members/lookup", json={"card": "19999999"})
    assert error_of(response) == (404, "member_not_found")


def test_lookup_of_a_book_barcode_says_it_is_not_a_member_card(
    shared_server: BackendServer,
) -> None:
    response = shared_server.post("members/lookup", json={"card": "9780201379624"})
    assert error_of(response) == (404, "member_not_found")
    assert "not a member card" in response.json()["error"]["message"]


def test_lookup_shows_credential_and_last_answers(shared_server: BackendServer) -> None:
    before = shared_server.post("members/lookup", json={"card": "19000102"}).json()
    assert before["has_credential"] is False
    assert before["last_answers"] is None
    first = make_body("19000102", answers={"purpose": "membaca"}, want_internet=False)
    assert shared_server.post("visits", json=first).status_code == 201
    later = make_body("19000102", answers={"purpose": "internet", "education": "s1"})
    assert shared_server.post("checkins", json=later).status_code == 201
    after = shared_server.post("members/lookup", json={"card": "19000102"}).json()
    assert after["has_credential"] is True
    assert after["last_answers"] == {"purpose": "internet", "education": "s1"}


# ---------------------------------------------------------------- check-ins


def test_first_checkin_issues_a_credential_and_the_next_reuses_it(
    shared_server: BackendServer,
) -> None:
    first = shared_server.post("checkins", json=make_body("19000101"))
    assert first.status_code == 201
    issued = first.json()["credential"]
    assert issued["reused"] is False
    second = shared_server.post("checkins", json=make_body("A19000101B"))
    assert second.status_code == 201
    again = second.json()["credential"]
    assert again["reused"] is True
    assert (again["username"], again["password"], again["expires_at"]) == (
        issued["username"],
        issued["password"],
        issued["expires_at"],
    )


def test_issued_credential_follows_the_library_rules(shared_server: BackendServer) -> None:
    response = shared_server.post("checkins", json=make_body("19000107"))
    credential = response.json()["credential"]
    assert len(credential["password"]) == 10
    assert set(credential["password"]) <= set(PASSWORD_ALPHABET)
    assert not set(credential["password"]) & LOOKALIKES
    assert "19000107" not in credential["username"]
    assert re.fullmatch(r"p[a-hjkmnprtwxy2-9]{6}", credential["username"])
    expires = dt.datetime.fromisoformat(credential["expires_at"])
    received = dt.datetime.fromisoformat(response.json()["visit"]["received_at"])
    assert expires - received == dt.timedelta(days=1)


def test_checkin_echoes_the_visit(shared_server: BackendServer) -> None:
    request = make_body("19000108", want_internet=False, kiosk_id="kiosk-lantai-2")
    response = shared_server.post("checkins", json=request)
    assert response.status_code == 201
    visit = response.json()["visit"]
    assert visit["client_ref"] == request["client_ref"]
    assert visit["member_id"] == "19000108"
    assert visit["kiosk_id"] == "kiosk-lantai-2"
    assert visit["answers"] == request["answers"]
    assert visit["want_internet"] is False
    assert dt.datetime.fromisoformat(visit["occurred_at"]) == dt.datetime.fromisoformat(
        request["occurred_at"]
    )
    assert response.json()["credential"] is None


def test_expired_member_gets_no_credential_and_nothing_is_recorded(
    shared_server: BackendServer,
) -> None:
    visits_before = count_rows(shared_server, "visits")
    request = make_body("19000124")
    response = shared_server.post("checkins", json=request)
    assert error_of(response) == (403, "member_expired")
    assert count_rows(shared_server, "visits") == visits_before
    # Nothing recorded: the same client_ref is still free for a plain visit.
    plain = shared_server.post("visits", json={**request, "want_internet": False})
    assert plain.status_code == 201


def test_member_expired_by_date_gets_member_expired(shared_server: BackendServer) -> None:
    response = shared_server.post("checkins", json=make_body("19000116"))
    assert error_of(response) == (403, "member_expired")


def test_blocked_member_gets_member_blocked(shared_server: BackendServer) -> None:
    response = shared_server.post("checkins", json=make_body("19000125"))
    assert error_of(response) == (403, "member_blocked")


def test_expired_and_blocked_members_plain_checkins_are_visits(
    shared_server: BackendServer,
) -> None:
    for card in ("19000124", "19000125"):
        response = shared_server.post("checkins", json=make_body(card, want_internet=False))
        assert response.status_code == 201, response.text
        assert response.json()["credential"] is None
        via_visits = shared_server.post("visits", json=make_body(card, want_internet=True))
        assert via_visits.status_code == 201
        assert "credential" not in via_visits.json()


def test_checkin_of_unknown_member_is_member_not_found(shared_server: BackendServer) -> None:
    response = shared_server.post("checkins", json=make_body("19999998"))
    assert error_of(response) == (404, "member_not_found")
    response = shared_server.post("visits", json=make_body("not-a-card"))
    assert error_of(response) == (404, "member_not_found")


def test_future_occurred_at_is_recorded_as_receive_time(shared_server: BackendServer) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    response = shared_server.post("visits", json=make_body("19000103", occurred_at=future))
    visit = response.json()["visit"]
    assert visit["occurred_at"] == visit["received_at"]


def test_past_occurred_at_is_kept_as_given(shared_server: BackendServer) -> None:
    past = "2026-01-05T08:15:00+07:00"
    response = shared_server.post("visits", json=make_body("19000103", occurred_at=past))
    visit = response.json()["visit"]
    assert dt.datetime.fromisoformat(visit["occurred_at"]) == dt.datetime.fromisoformat(past)
    assert visit["received_at"] != visit["occurred_at"]


# ---------------------------------------------------------------- replays


def test_replay_of_a_checkin_returns_the_first_answer_with_200(
    shared_server: BackendServer,
) -> None:
    request = make_body("19000104")
    first = shared_server.post("checkins", json=request)
    assert first.status_code == 201
    visits = count_rows(shared_server, "visits")
    replay = shared_server.post("checkins", json=request)
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert count_rows(shared_server, "visits") == visits


def test_client_ref_is_one_namespace_across_checkins_and_visits(
    shared_server: BackendServer,
) -> None:
    request = make_body("19000106", want_internet=False)
    first = shared_server.post("visits", json=request)
    assert first.status_code == 201
    via_checkins = shared_server.post("checkins", json=request)
    assert via_checkins.status_code == 200
    assert via_checkins.json() == {**first.json(), "credential": None}
    checkin = make_body("19000106", want_internet=True)
    issued = shared_server.post("checkins", json=checkin)
    via_visits = shared_server.post("visits", json=checkin)
    assert via_visits.status_code == 200
    assert via_visits.json() == {"visit": issued.json()["visit"]}


def test_same_client_ref_with_another_body_is_a_conflict(shared_server: BackendServer) -> None:
    request = make_body("19000105")
    assert shared_server.post("checkins", json=request).status_code == 201
    changed = {**request, "answers": {"purpose": "penelitian"}}
    assert error_of(shared_server.post("checkins", json=changed)) == (409, "client_ref_conflict")
    other_member = {**request, "card": "19000109"}
    assert error_of(shared_server.post("visits", json=other_member)) == (
        409,
        "client_ref_conflict",
    )


def test_replay_wins_over_a_status_change(shared_server: BackendServer) -> None:
    # The first answer stands even if the member can no longer check in: the outbox
    # must be able to deliver what was accepted.
    request = make_body("19000110")
    first = shared_server.post("checkins", json=request)
    assert first.status_code == 201
    replay = shared_server.post("checkins", json={**request, "card": "A19000110B"})
    assert replay.status_code == 200
    assert replay.json() == first.json()


def test_stats_today_counts_visits_issued_and_reused(backend_server: BackendServer) -> None:
    assert backend_server.get("stats/today").json()["visits"] == 0
    assert backend_server.post("checkins", json=make_body("19000111")).status_code == 201
    assert backend_server.post("checkins", json=make_body("19000111")).status_code == 201
    assert backend_server.post("visits", json=make_body("19000113")).status_code == 201
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    old = make_body("19000113", want_internet=False, occurred_at=yesterday)
    assert backend_server.post("visits", json=old).status_code == 201
    stats = backend_server.get("stats/today").json()
    assert {k: stats[k] for k in ("visits", "credentials_issued", "credentials_reused")} == {
        "visits": 3,
        "credentials_issued": 1,
        "credentials_reused": 1,
    }
    jakarta_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    assert stats["date"] == jakarta_today.isoformat()


def test_every_token_of_the_list_is_accepted_and_recorded_kiosk_id_is_as_given(
    tmp_path: object,
) -> None:
    from pathlib import Path

    second = "second-kiosk-token-abcdefgh"
    with BackendServer(Path(str(tmp_path)) / "b", extra_tokens=[second]) as server:
        response = requests.post(
            server.url("visits"),
            json=make_body(kiosk_id="perpus-keliling-01"),
            headers={"Authorization": f"Bearer {second}"},
            timeout=5,
        )
        assert response.status_code == 201
        assert response.json()["visit"]["kiosk_id"] == "perpus-keliling-01"


def test_a_configured_token_bound_to_a_kiosk_speaks_only_for_it(tmp_path: object) -> None:
    from pathlib import Path

    bound = "lobby-kiosk-token-abcdefgh"
    with BackendServer(
        Path(str(tmp_path)) / "b",
        extra_tokens=[bound],
        backend={"api_token_kiosks": {"kiosk-lobi": bound}},
    ) as server:
        lobby = {"Authorization": f"Bearer {bound}"}
        assert server.post("/visits", json=make_body(kiosk_id="kiosk-lobi"), headers=lobby).ok
        other = server.post("/visits", json=make_body(kiosk_id="kiosk-lain"), headers=lobby)
        assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
        # An unbound configured token still speaks for any kiosk id.
        assert server.post("/visits", json=make_body(kiosk_id="kiosk-lain")).status_code == 201


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("kiosks/heartbeat", "dead_letters", False),
        ("kiosks/heartbeat", "outbox_depth", "3"),
        ("kiosks/heartbeat", "outbox_depth", 2**64),
        ("checkins", "want_internet", "true"),
        ("visits", "want_internet", 1),
        ("guest-visits", "group_size", "3"),
        ("guest-visits", "group_size", True),
    ],
)
def test_integers_and_booleans_are_strict(
    shared_server: BackendServer, path: str, field: str, value: object
) -> None:
    bodies = {
        "kiosks/heartbeat": {"kiosk_id": "kiosk-uji"},
        "checkins": make_body(),
        "visits": make_body(),
        "guest-visits": {
            "client_ref": str(uuid.uuid4()),
            "name": "Tamu",
            "kiosk_id": "kiosk-uji",
            "occurred_at": "2026-11-28T09:30:00+07:00",
        },
    }
    answer = shared_server.post(path, json={**bodies[path], field: value})
    assert answer.status_code == 422 and field in answer.json()["error"]["message"], answer.text


def test_uuid_client_ref_is_required(shared_server: BackendServer, body: Body) -> None:
    response = shared_server.post("visits", json=body(client_ref="ref-1"))
    assert error_of(response) == (422, "invalid_request")
    assert "client_ref" in response.json()["error"]["message"]
    assert uuid.UUID(body()["client_ref"])
