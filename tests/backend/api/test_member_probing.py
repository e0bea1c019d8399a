"""Harvesting member numbers is throttled per token (issue 11 item 8), for the whole backend:
after a run of `member_not_found` answers a token's lookups, check-ins and visits get 429,
its kiosk's maintenance sees the pause in /stats/today, another kiosk's token is served,
and one warning line names the token (not the numbers tried)."""

from __future__ import annotations

from pathlib import Path

import requests
from support.backend_server import BackendServer, checkin_body

SECOND = "kiosk-kedua-token-0002"


def lookup(server: BackendServer, card: str, token: str) -> requests.Response:
    return requests.post(
        server.url("members/lookup"),
        json={"card": card},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_a_run_of_unknown_numbers_pauses_that_tokens_lookups(tmp_path: Path) -> None:
    shared = {"database_url": f"sqlite:///{tmp_path / 'one.db'}", "shared_limits": "database"}
    limits = {"unknown_members_per_10_minutes": 5, **shared}
    with (
        BackendServer(tmp_path / "a", extra_tokens=[SECOND], backend=limits) as first,
        BackendServer(tmp_path / "b", extra_tokens=[SECOND], backend=limits) as second,
    ):
        # The guesses alternate between two backend processes: the count is shared.
        tried = [
            lookup((first, second)[n % 2], f"1999{n:04d}", first.token).status_code
            for n in range(5)
        ]
        assert tried == [404] * 5
        known = lookup(first, "19000123", first.token)
        assert known.status_code == 429, known.text
        assert known.json()["error"]["code"] == "rate_limited"
        assert "unknown member numbers" in known.json()["error"]["message"]
        assert 1 <= int(known.headers["Retry-After"]) <= 1200  # up to two windows
        checkin = first.post("checkins", json=checkin_body("19000123"))
        assert checkin.status_code == 429  # nor a password through a check-in
        stats = second.get("stats/today").json()
        assert stats["lookups_paused_seconds"] >= 1
        # Another kiosk's token is served, and sees no pause of its own.
        assert lookup(second, "19000123", SECOND).status_code == 200
        other = requests.get(
            second.url("stats/today"), headers={"Authorization": f"Bearer {SECOND}"}, timeout=10
        ).json()
        assert other["lookups_paused_seconds"] == 0
        logs = first.log_tail(400) + second.log_tail(400)
        assert logs.count("unknown member numbers limit reached for token") == 1
        assert "19990003" not in logs.split("limit reached")[-1].splitlines()[0]


def test_a_few_typos_do_not_pause_a_kiosk(tmp_path: Path) -> None:
    """At the default limit (20 in ten minutes) a day's typos and foreign cards pass."""
    with BackendServer(tmp_path, backend={"unknown_members_per_10_minutes": 20}) as server:
        for n in range(19):
            assert server.post("members/lookup", json={"card": f"1999{n:04d}"}).status_code == 404
        assert server.post("members/lookup", json={"card": "19000123"}).status_code == 200
        assert server.get("stats/today").json()["lookups_paused_seconds"] == 0
