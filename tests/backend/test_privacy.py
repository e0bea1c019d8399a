"""Members' privacy (issue 11, UU PDP 27/2022) against the real server and its SQLite file:
`kiosk privacy purge` run a year and more later (Debian's faketime), the backend's own daily
purge (the running server's clock moved on by faketime), replays once their stored answer is
cleared, and `kiosk privacy export` / `erase` as an operator runs them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from backend.test_postgresql import postgres_url  # noqa: F401 (a fixture)
from support.backend_server import JAKARTA, BackendServer, checkin_body
from support.faked_clock import FAKETIME_LIB, faked_clock

from kiosk.backend.db import create_db_engine, read_session
from kiosk.backend.visit_reports import named_period, visit_report

STAFF = ("pustakawan", "kata-sandi-admin-1")
FIELDS = ["purpose", "occupation", "education", "institution"]

pytestmark = pytest.mark.skipif(
    shutil.which("faketime") is None or not FAKETIME_LIB.exists(),
    reason="Debian's faketime is needed (apt-get install faketime)",
)


def kiosk_later(server: BackendServer, offset: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`kiosk ARGS` as if run `offset` from now (faketime '+400 days')."""
    command = ["faketime", offset, sys.executable, "-m", "kiosk", *args]
    return subprocess.run(
        [*command, "--config", str(server.config_path)],
        capture_output=True,
        text=True,
        cwd=server.dir,
        env=server._environment(),
        timeout=120,
    )


def guest_body(name: str, institution: str, size: int = 1) -> dict[str, Any]:
    return {
        "client_ref": str(uuid.uuid4()),
        "name": name,
        "institution": institution,
        "group_size": size,
        "answers": {"purpose": "membaca"},
        "want_internet": False,
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": dt.datetime.now(dt.UTC).astimezone(JAKARTA).isoformat(),
    }


def rows(server: BackendServer, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database_path) as conn:
        return conn.execute(query).fetchall()


def signed_in(server: BackendServer) -> requests.Session:
    server.kiosk_with_input(f"{STAFF[1]}\n{STAFF[1]}\n", "staff", "add", STAFF[0])
    return server.staff_browser(*STAFF)


def month_reports(server: BackendServer, browser: requests.Session) -> tuple[str, Any]:
    """This month as the Dinas's CSV from the console, and as the report behind it."""
    month = named_period("month", dt.datetime.now(JAKARTA).date())
    query = f"from={month.first}&to={month.last}"
    csv = browser.get(f"{server.base_url}/staff/reports/visits.csv?{query}", timeout=10)
    assert csv.status_code == 200, csv.text[:300]
    engine = create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)
    try:
        with read_session(engine) as session:
            report = visit_report(session, month, FIELDS, JAKARTA)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return csv.text, (report.total, report.by_day, report.by_answer, report.visitors)


def test_purge_a_year_later_unlinks_visits_and_keeps_the_month_report(
    backend_server: BackendServer,
) -> None:
    server = backend_server
    checkin = checkin_body("19000123")
    issued = server.post("/checkins", json=checkin).json()["credential"]
    visit = checkin_body("19000126", want_internet=False)
    assert server.post("/visits", json=visit).status_code == 201
    for body in (
        guest_body("Wulan Purnamasari", "Warga Pangkalpinang"),
        guest_body("Rombongan", "SMAN 2 Sungailiat", 12),
    ):
        assert server.post("/guest-visits", json=body).status_code == 201
    browser = signed_in(server)
    before = month_reports(server, browser)

    dry = kiosk_later(server, "+400 days", "privacy", "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and re.search(r"\b2  visits older than 365 days", dry.stdout)
    assert rows(server, "SELECT count(*) FROM visits WHERE member_id != ''") == [(2,)]

    done = kiosk_later(server, "+400 days", "privacy", "purge")
    assert done.returncode == 0, done.stderr
    counts = {what: int(n) for n, what in re.findall(r"^\s+(\d+)  (.+)$", done.stdout, re.M)}
    assert counts == {
        "visits older than 365 days unlinked from the member": 2,
        "guest visits older than 365 days: name removed": 2,
        "passwords of credentials expired over a day ago cleared": 1,
        "credentials ended over 365 days ago deleted": 1,
        "stored replay answers older than 48 h cleared": 4,
        "library write-back entries cleared or deleted": 0,
        "console audit entries older than 365 days deleted": 1,  # the sign-in above
        "expired sign-in counts and checked member files deleted": 0,
    }, done.stdout
    assert rows(server, "SELECT count(*) FROM staff_audit") == [(0,)]
    assert rows(
        server, "SELECT member_id, credential_id, response, request_digest FROM visits"
    ) == [
        ("", None, "", ""),
        ("", None, "", ""),
    ]
    assert rows(server, "SELECT count(*) FROM credentials") == [(0,)]
    assert rows(server, "SELECT name, institution FROM guest_visits ORDER BY id") == [
        ("", ""),  # a lone guest's institution goes with the name
        ("", "SMAN 2 Sungailiat"),  # a school's group stays a statistic
    ]
    # The month's report has the same numbers: days, answers, guests and groups.
    assert month_reports(server, browser) == before
    # Not even in SQLite's free space or its write-ahead log (the server is still running).
    on_disk = b"".join(path.read_bytes() for path in server.dir.glob("kiosk.db*"))
    assert issued["password"].encode() not in on_disk
    assert b"Wulan Purnamasari" not in on_disk
    log = (server.dir / "log" / "backend.log").read_text(encoding="utf-8")
    assert "privacy purge (command): visits unlinked 2" in log
    assert "Purnamasari" not in log and issued["password"] not in log

    again = kiosk_later(server, "+400 days", "privacy", "purge")
    assert again.returncode == 0, again.stderr
    assert all(n == "0" for n, _ in re.findall(r"^\s+(\d+)  (.+)$", again.stdout, re.M))
    lookup = server.post("/members/lookup", json={"card": "19000123"}).json()
    assert lookup["last_answers"] is None  # nothing links the member to those visits


def test_a_replay_after_its_answer_was_cleared_gets_the_visit_and_a_valid_credential(
    tmp_path: Path,
) -> None:
    with BackendServer(tmp_path / "b", credentials={"valid_days": 7}) as server:
        body = checkin_body("19000123")
        first = server.post("/checkins", json=body).json()
        short = checkin_body("19000126", want_internet=False)
        server.post("/visits", json=short)
        guest = guest_body("Wulan Purnamasari", "Warga Pangkalpinang")
        guest_first = server.post("/guest-visits", json=guest).json()
        done = kiosk_later(server, "+3 days", "privacy", "purge")
        assert "3  stored replay answers older than 48 h cleared" in done.stdout, done.stdout
        assert rows(server, "SELECT count(*) FROM visits WHERE response = ''") == [(2,)]
        assert rows(server, "SELECT response FROM guest_visits") == [("",)]
        guest_again = server.post("/guest-visits", json=guest)
        assert guest_again.status_code == 200 and guest_again.json() == guest_first
        replay = server.post("/checkins", json=body)
        assert replay.status_code == 200
        # Rebuilt from the visit: the credential is still valid, so it is shown again.
        assert replay.json() == first
        assert server.post("/visits", json=short).status_code == 200
        changed = server.post("/checkins", json={**body, "answers": {"purpose": "membaca"}})
        assert changed.status_code == 409


def wait_for(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)  # the purge is a background task of another process: poll its file


def test_the_backend_purges_by_itself_once_a_day(tmp_path: Path) -> None:
    spec, env = faked_clock(tmp_path)
    with BackendServer(tmp_path / "b", env=env) as server:
        log_file = server.dir / "log" / "backend.log"
        wait_for(lambda: "privacy purge: visits unlinked 0" in log_file.read_text(), "start purge")
        body = checkin_body("19000123")
        first = server.post("/checkins", json=body).json()
        password = first["credential"]["password"]
        spec.write_text("+3d\n", encoding="utf-8")  # three days on: the next daily purge
        wait_for(
            lambda: rows(server, "SELECT password FROM credentials") == [("",)],
            "the expired credential's password cleared",
        )
        assert rows(server, "SELECT response FROM visits") == [("",)]
        replay = server.post("/checkins", json=body)
        assert replay.status_code == 200
        assert replay.json()["visit"] == first["visit"]
        assert replay.json()["credential"] is None  # expired: its password is gone
        seen: set[str] = set()

        def purge_lines() -> list[str]:
            # Logs rotate daily and rotated files go after 14 days (of this faked clock):
            # collect the lines as they appear, from every file still there.
            for file in log_file.parent.glob("backend.log*"):
                text = file.read_text(encoding="utf-8")
                seen.update(line for line in text.splitlines() if "privacy purge: " in line)
            return sorted(seen)  # each line starts with its (faked) time

        wait_for(lambda: len(purge_lines()) >= 2, "the second purge's log line")
        spec.write_text("+400d\n", encoding="utf-8")  # over a year: the visit loses its member
        wait_for(
            lambda: rows(server, "SELECT member_id FROM visits") == [("",)],
            "the year-old visit unlinked",
        )
        # The purge commits, then logs: its line may land a moment after the row changed.
        wait_for(lambda: len(purge_lines()) >= 3, "the third purge's log line")
        log = "".join(f.read_text(encoding="utf-8") for f in log_file.parent.glob("backend.log*"))
        purges = purge_lines()
        assert len(purges) == 3, purges  # at start, then one each time a day had gone by
        assert "passwords cleared 1" in purges[1] and "visits unlinked 1" in purges[2]
        assert password not in log and "Siti" not in log


def test_export_prints_everything_held_without_passwords(backend_server: BackendServer) -> None:
    server = backend_server
    checkin = checkin_body("19000123")
    issued = server.post("/checkins", json=checkin).json()["credential"]
    visit = checkin_body("19000123", want_internet=False, answers={"purpose": "membaca"})
    server.post("/visits", json=visit)
    result = server.kiosk("privacy", "export", "19000123")
    held = json.loads(result.stdout)
    assert set(held) == {"member", "visits", "credentials"}
    assert held["member"]["id"] == "19000123" and held["member"]["name"] == "Siti Aminah"
    assert [v["client_ref"] for v in held["visits"]] == [checkin["client_ref"], visit["client_ref"]]
    assert held["visits"][1]["answers"] == {"purpose": "membaca"}
    assert {"occurred_at", "received_at", "kiosk_id", "want_internet"} <= set(held["visits"][0])
    assert [c["username"] for c in held["credentials"]] == [issued["username"]]
    assert "password" not in held["credentials"][0]
    assert issued["password"] not in result.stdout
    for nobody in ("19999999", " "):  # blank: not the visits already unlinked from anyone
        unknown = server.kiosk("privacy", "export", nobody, check=False)
        assert unknown.returncode == 1 and "nothing is held about member" in unknown.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendServer]:
    """A real backend on its SQLite file, or on PostgreSQL (several instances' set-up)."""
    sections: dict[str, Any] = {}
    if request.param == "postgresql":
        sections["backend"] = {"database_url": request.getfixturevalue("postgres_url")}
    with BackendServer(tmp_path / "b", **sections) as server:
        yield server


def unlinked_visits(server: BackendServer) -> int:
    query = "SELECT count(*) FROM visits WHERE member_id = ''"
    url = tomllib.loads(server.config_path.read_text())["backend"]["database_url"]
    if url.startswith("sqlite"):
        return int(rows(server, query)[0][0])
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return int(conn.execute(query).fetchone()[0])  # type: ignore[index]


def test_two_purges_at_once_are_harmless(any_database: BackendServer) -> None:
    """Two backend instances purging at the same moment: each row is changed once."""
    server = any_database
    for card in ("19000123", "19000124", "19000126"):
        response = server.post("/visits", json=checkin_body(card, want_internet=False))
        assert response.status_code == 201, response.text
    command = ["faketime", "+400 days", sys.executable, "-m", "kiosk", "privacy", "purge"]
    runs = [
        subprocess.Popen(
            [*command, "--config", str(server.config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=server.dir,
            env=server._environment(),
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    unlinked = [
        int(re.search(r"(\d+)  visits older", out).group(1))  # type: ignore[union-attr]
        for out, _ in outputs
    ]
    assert sorted(unlinked) == [0, 3]
    assert unlinked_visits(server) == 3
