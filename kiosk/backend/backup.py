"""`kiosk backup`: a consistent copy of the backend database while it runs (SQLite's online
backup, PostgreSQL's pg_dump)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from kiosk.backend.db import is_sqlite, prepare_sqlite_file, sqlite_path


class BackupError(Exception):
    """The backup could not be written."""


def backup_database(url: str, destination: Path) -> str:
    """Copy the database to `destination` while the backend may be running; returns how."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if is_sqlite(url):
        source = sqlite_path(url)
        if source is None or not source.exists():
            raise BackupError(f"no SQLite database file at {source}")
        prepare_sqlite_file(destination)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(destination)
        try:
            with dst:
                src.backup(dst)  # SQLite's online backup: consistent while others write
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite backup failed: {exc}") from exc
        finally:
            src.close()
            dst.close()
        return f"SQLite online backup of {source}"
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BackupError(f"backup supports SQLite and PostgreSQL, not {parsed.drivername}")
    pg_dump = shutil.which("pg_dump")
    plain = parsed.set(drivername="postgresql", password=None)
    command = [
        "pg_dump",
        "--format=custom",
        f"--file={destination}",
        plain.render_as_string(hide_password=False),
    ]
    if pg_dump is None:
        raise BackupError(
            "pg_dump not found; install postgresql-client and run: " + " ".join(command)
        )
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)  # not on the command line, where ps shows it
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return "pg_dump --format=custom (restore with pg_restore)"
