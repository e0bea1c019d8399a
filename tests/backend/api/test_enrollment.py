"""POST /kiosks/enroll on the real server: a code from `kiosk kiosks add` enrolls a kiosk once;
wrong, used and expired codes change nothing; five wrong codes from one address earn a 429."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import requests
from support.backend_server import BackendServer
from support.faked_clock import FAKETIME_LIB, faked_clock
from support.needs import needs

CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def make_code(server: BackendServer, kiosk_id: str, *extra: str) -> str:
    made = server.kiosk("kiosks", "add", kiosk_id, *extra)
    code = made.stdout.strip()
    assert CODE.match(code), made.stdout
    assert "kiosk enroll" in made.stderr
    return code


def enroll(server: BackendServer, code: str) -> requests.Response:
    # No bearer token: a new kiosk has none yet.
    return requests.post(server.url("kiosks/enroll"), json={"code": code}, timeout=10)


def error_code(response: requests.Response) -> str:
    return str(response.json()["error"]["code"])


def table(server: BackendServer, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.database_path) as db:
        return list(db.execute(query))


def test_a_code_from_the_command_line_enrolls_a_kiosk_once(tmp_path: Path) -> None:
    with BackendServer(tmp_path, members_csv=None) as server:
        code = make_code(server, "lobi-1", "--location", "ruang-baca")
        # Typed in lowercase without the dash: the same code.
        first = enroll(server, code.replace("-", "").lower())
        assert first.status_code == 201, first.text
        answer = first.json()
        assert answer["kiosk_id"] == "lobi-1" and answer["location"] == "ruang-baca"
        token = {"Authorization": f"Bearer {answer['token']}"}
        beat = requests.post(
            server.url("kiosks/heartbeat"), json={"kiosk_id": "lobi-1"}, headers=token, timeout=10
        )
        assert beat.status_code == 200, beat.text
        other = requests.post(
            server.url("kiosks/heartbeat"), json={"kiosk_id": "lobi-2"}, headers=token, timeout=10
        )
        assert other.status_code == 403  # the token speaks only for its own kiosk
        again = enroll(server, code)
        assert again.status_code == 410 and error_code(again) == "enrollment_code_used"
        assert table(server, "SELECT location FROM kiosks WHERE id = 'lobi-1'") == [("ruang-baca",)]
        actions = [a for (a,) in table(server, "SELECT action FROM staff_audit ORDER BY id")]
        assert actions == ["kiosk.code_made", "kiosk.enrolled"]
        # A registered kiosk gets no second code until it is revoked.
        refused = server.kiosk("kiosks", "add", "lobi-1", check=False)
        assert refused.returncode == 1 and "revoke it" in refused.stderr


def test_a_wrong_code_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    with BackendServer(tmp_path, members_csv=None) as server:
        make_code(server, "lobi-1")
        before = table(server, "SELECT * FROM kiosks")
        wrong = enroll(server, "ABCD-EFGH")
        assert wrong.status_code == 403 and error_code(wrong) == "enrollment_code_wrong"
        assert "not known" in wrong.json()["error"]["message"]
        assert table(server, "SELECT * FROM kiosks") == before
        malformed = enroll(server, "ABC")
        assert malformed.status_code == 422 and error_code(malformed) == "invalid_request"


def test_bad_kiosk_ids_and_locations_are_refused_by_the_command(tmp_path: Path) -> None:
    with BackendServer(tmp_path, members_csv=None, start=False) as server:
        bad_id = server.kiosk("kiosks", "add", "Lobi 1!", check=False)
        assert bad_id.returncode == 2 and "not a kiosk id" in bad_id.stderr
        bad_place = server.kiosk("kiosks", "add", "lobi-1", "--location", "Ruang Baca", check=False)
        assert bad_place.returncode == 2 and "not a location" in bad_place.stderr


@needs(not FAKETIME_LIB.exists(), "Debian's faketime is needed (apt-get install faketime)")
def test_a_code_expires_after_a_day(tmp_path: Path) -> None:
    spec, env = faked_clock(tmp_path)
    with BackendServer(tmp_path / "server", members_csv=None, env=env) as server:
        code = make_code(server, "lobi-1")
        spec.write_text("+25h\n", encoding="utf-8")
        late = enroll(server, code)
        assert late.status_code == 410 and error_code(late) == "enrollment_code_expired"
        assert table(server, "SELECT token_hash FROM kiosks") == []


def test_five_wrong_codes_from_one_address_earn_a_pause(tmp_path: Path) -> None:
    with BackendServer(tmp_path, members_csv=None) as server:
        code = make_code(server, "lobi-1")
        for _ in range(5):
            assert enroll(server, "ZZZZ-ZZZZ").status_code == 403
        held = enroll(server, code)  # even the right code waits
        assert held.status_code == 429 and error_code(held) == "rate_limited"
        assert int(held.headers["Retry-After"]) >= 1
        assert table(server, "SELECT token_hash FROM kiosks") == []


@pytest.mark.parametrize("code", ["K7QD-3M9", "K7QD--3M9P", "K7QD 3M9P", ""])
def test_codes_of_the_wrong_shape_are_invalid_requests(
    shared_server: BackendServer, code: str
) -> None:
    answer = enroll(shared_server, code)
    assert answer.status_code == 422 and error_code(answer) == "invalid_request"
