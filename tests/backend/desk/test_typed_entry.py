"""Typed member numbers (issue 11): a number typed on the keypad is not the card the
library's procedure asks for. With `[members] typed_entry = "verify"` it sees a masked name
and gets internet only with the member's birth date; five wrong dates in an hour lock that
member's typed entry (across instances on PostgreSQL too); "guestbook-only" records the visit
and shows no credential; a card shown (`entry` left out) works as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from support.backend_server import BackendServer, checkin_body
from support.faked_clock import FAKETIME_LIB, faked_clock
from support.needs import needs
from support.postgres_server import PostgreSQL

needs_faketime = needs(
    not FAKETIME_LIB.exists(), "Debian's faketime is needed (apt-get install faketime)"
)
SITI = "19000123"  # Siti Aminah, birth date 2004-08-17 in the demo CSV
SITI_BORN = {"birth_date": "2004-08-17"}
AGUS = "19000124"  # no birth date on file


def typed(card: str = SITI, **overrides: Any) -> dict[str, Any]:
    return checkin_body(card, entry="typed", **overrides)


def code(response: requests.Response) -> str:
    return str(response.json()["error"]["code"])


def test_a_typed_number_sees_a_masked_name_and_no_earlier_answers(
    shared_server: BackendServer,
) -> None:
    assert shared_server.post("checkins", json=checkin_body(SITI)).status_code in (200, 201)
    scanned = shared_server.post("members/lookup", json={"card": SITI}).json()
    assert scanned["member"]["name"] == "Siti Aminah"
    assert scanned["verification"] == "none"
    assert scanned["last_answers"] is not None
    answer = shared_server.post("members/lookup", json={"card": SITI, "entry": "typed"})
    assert answer.status_code == 200, answer.text
    looked = answer.json()
    assert looked["member"]["name"] == "Siti A."
    assert looked["member"]["expires_on"] is None
    assert looked["last_answers"] is None
    assert looked["verification"] == "birth_date"
    no_date = shared_server.post("members/lookup", json={"card": AGUS, "entry": "typed"}).json()
    assert no_date["verification"] == "card"


def test_internet_by_a_typed_number_needs_the_birth_date(shared_server: BackendServer) -> None:
    # Without verification: the visit is recorded, no credential (not even an existing one).
    assert shared_server.post("checkins", json=checkin_body(SITI)).json()["credential"]
    bare = shared_server.post("checkins", json=typed())
    assert bare.status_code == 201, bare.text
    assert bare.json()["credential"] is None
    assert bare.json()["visit"]["member_id"] == SITI
    good = shared_server.post("checkins", json=typed(verification=SITI_BORN))
    assert good.status_code == 201, good.text
    assert good.json()["credential"]["reused"] is True
    wrong = typed(verification={"birth_date": "2004-08-18"})
    refused = shared_server.post("checkins", json=wrong)
    assert refused.status_code == 403
    assert code(refused) == "verification_failed"
    # Nothing was recorded: the same client_ref with the right date is a new check-in.
    wrong["verification"] = SITI_BORN
    assert shared_server.post("checkins", json=wrong).status_code == 201
    assert "2004-08-18" not in shared_server.log_tail(400)
    assert "2004-08-17" not in shared_server.log_tail(400)


def test_a_member_without_a_birth_date_gets_the_guestbook_only(
    shared_server: BackendServer,
) -> None:
    answer = shared_server.post("checkins", json=typed(AGUS, want_internet=True))
    assert answer.status_code == 201, answer.text
    assert answer.json()["credential"] is None
    # A visit of a typed number without internet is a plain visit, as ever.
    plain = shared_server.post("checkins", json=typed(want_internet=False))
    assert plain.status_code == 201
    assert plain.json()["credential"] is None


def test_a_typed_check_in_replayed_answers_the_first_answer(
    shared_server: BackendServer,
) -> None:
    body = typed(verification=SITI_BORN)
    first = shared_server.post("checkins", json=body)
    again = shared_server.post("checkins", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["credential"] == first.json()["credential"]
    # The outbox sends the body without the birth date to /visits: the same visit.
    body.pop("verification")
    queued = shared_server.post("visits", json=body)
    assert queued.status_code == 200, queued.text


def lock_out(servers: tuple[BackendServer, ...], card: str) -> list[str]:
    results = []
    for n in range(6):
        wrong = typed(card, verification={"birth_date": f"1999-01-{n + 1:02d}"})
        answer = servers[n % len(servers)].post("checkins", json=wrong)
        results.append(code(answer))
    return results


def test_five_wrong_birth_dates_lock_the_members_typed_entry(tmp_path: Path) -> None:
    with BackendServer(tmp_path) as server:
        assert (
            lock_out((server,), SITI) == ["verification_failed"] * 4 + ["verification_locked"] * 2
        )
        # The right date no longer helps, and the lookup says: show the card.
        right = server.post("checkins", json=typed(verification=SITI_BORN))
        assert right.status_code == 403
        assert code(right) == "verification_locked"
        looked = server.post("members/lookup", json={"card": SITI, "entry": "typed"}).json()
        assert looked["verification"] == "card"
        # The card itself still works, and so does the typed guestbook without internet.
        assert server.post("checkins", json=checkin_body(SITI)).json()["credential"]
        assert server.post("checkins", json=typed(want_internet=False)).status_code == 201
        # Another member is not locked.
        other = typed("19000126", verification={"birth_date": "1990-05-02"})
        assert server.post("checkins", json=other).json()["credential"]
        log = server.log_tail(400)
        assert log.count("typed entry locked for member=19000123") == 1
        assert "1999-01-0" not in log
        metrics = requests.get(f"{server.base_url}/metrics", timeout=10).text
        assert 'kiosk_checkins_total{result="verification_failed"} 4.0' in metrics


@needs_faketime
def test_an_hour_later_the_lock_is_gone(tmp_path: Path) -> None:
    spec, env = faked_clock(tmp_path)
    with BackendServer(tmp_path / "server", env=env) as server:
        lock_out((server,), SITI)
        spec.write_text("+59m\n", encoding="utf-8")
        still = server.post("checkins", json=typed(verification=SITI_BORN))
        assert code(still) == "verification_locked"
        spec.write_text("+61m\n", encoding="utf-8")
        right = server.post("checkins", json=typed(verification=SITI_BORN))
        assert right.status_code == 201, right.text
        assert right.json()["credential"]


def test_the_lock_holds_across_instances_on_postgresql(
    postgresql: PostgreSQL, tmp_path: Path
) -> None:
    config = {"database_url": postgresql.new_database("typed")}
    with (
        BackendServer(tmp_path / "a", backend=config) as first,
        BackendServer(tmp_path / "b", members_csv=None, backend=config) as second,
    ):
        assert lock_out((first, second), SITI)[-2:] == ["verification_locked"] * 2
        right = second.post("checkins", json=typed(verification=SITI_BORN))
        assert code(right) == "verification_locked"


@pytest.mark.parametrize("mode", ["guestbook-only", "open"])
def test_the_library_chooses_what_a_typed_number_may_do(tmp_path: Path, mode: str) -> None:
    with BackendServer(tmp_path, members={"typed_entry": mode}) as server:
        looked = server.post("members/lookup", json={"card": SITI, "entry": "typed"}).json()
        answer = server.post("checkins", json=typed(verification=SITI_BORN)).json()
        if mode == "open":
            assert looked["member"]["name"] == "Siti Aminah"
            assert looked["verification"] == "none"
            assert answer["credential"]
        else:
            assert looked["member"]["name"] == "Siti A."
            assert looked["verification"] == "card"
            assert answer["credential"] is None
