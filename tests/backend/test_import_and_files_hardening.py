"""Smaller hardening of issue 11 (item 11): a huge CSV field, --replace with an empty file,
owner-only logs when the backend runs before any import. Real commands, real files."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from support.backend_server import BackendServer

HEADER = "member_id,name,status,expires_on\n"


def members(server: BackendServer) -> int:
    with sqlite3.connect(server.database_path) as db:
        return int(db.execute("SELECT count(*) FROM members").fetchone()[0])


def test_a_huge_field_is_a_clear_line_error(tmp_path: Path) -> None:
    server = BackendServer(tmp_path / "backend", start=False)
    before = members(server)
    csv_file = tmp_path / "huge.csv"
    csv_file.write_text(
        HEADER + "19000901,Ani,active,\n" + '19000902,"' + "x" * 5_000_000 + '",active,\n',
        encoding="utf-8",
    )
    result = server.kiosk("members", "import", str(csv_file), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "line 3" in result.stderr and "field" in result.stderr, result.stderr
    assert members(server) == before


def test_replace_with_a_header_only_file_is_refused(tmp_path: Path) -> None:
    server = BackendServer(tmp_path / "backend", start=False)
    before = members(server)
    assert before > 0
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER, encoding="utf-8")
    for extra in (["--dry-run"], []):
        result = server.kiosk("members", "import", str(empty), "--replace", *extra, check=False)
        assert result.returncode == 1, result.stdout
        assert "no members" in result.stderr and "deleted" not in result.stdout
        assert members(server) == before
    # Without --replace an empty file changes nothing and says so.
    plain = server.kiosk("members", "import", str(empty))
    assert "0 member(s)" in plain.stdout


def test_logs_and_their_directory_are_owner_only_before_any_import(tmp_path: Path) -> None:
    var = tmp_path / "backend" / "var"
    server = BackendServer(
        tmp_path / "backend",
        members_csv=None,
        start=False,
        backend={"log_dir": str(var / "log"), "database_url": f"sqlite:///{var / 'kiosk.db'}"},
    )
    with server:
        server.start()
        assert server.get("health").status_code == 200
    for path in (var, var / "log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (var / "log" / "backend.log", var / "kiosk.db"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
