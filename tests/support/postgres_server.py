"""A throwaway PostgreSQL cluster (Debian's postgresql) in a temp dir on a free loopback port,
run as the `postgres` account when the tests run as root; a fresh database per user of it."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from kiosk.ports import free_port

PG_BINARIES = ("initdb", "pg_ctl", "postgres")
_names = itertools.count(1)


class NoPostgreSQL(RuntimeError):
    """The server binaries or the account to run them are missing."""


def _as_postgres_user() -> list[str]:
    # initdb refuses to run as root; the postgres account runs the cluster then.
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise NoPostgreSQL("running as root without runuser: cannot start PostgreSQL")
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise NoPostgreSQL("running as root and there is no 'postgres' account") from None
    return ["runuser", "-u", "postgres", "--"]


class PostgreSQL:
    """initdb + pg_ctl start on 127.0.0.1 (trust auth, fsync off: a test cluster)."""

    def __init__(self) -> None:
        missing = [name for name in PG_BINARIES if shutil.which(name) is None]
        if missing:
            raise NoPostgreSQL(f"PostgreSQL server binaries not on PATH: {', '.join(missing)}")
        self.prefix = _as_postgres_user()
        self.base = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.base / "data"
        self.port = free_port()

    def start(self) -> None:
        if self.prefix:
            shutil.chown(self.base, "postgres")
        run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
        subprocess.run(
            [*self.prefix, "initdb", "-D", str(self.data), "-U", "kiosk", "--auth=trust"]
            + ["-E", "UTF8", "--no-locale", "--no-sync"],
            **run,  # type: ignore[call-overload]
        )
        self.options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=300"
        )
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-o", self.options]
            + ["-l", str(self.base / "pg.log"), "-w", "start"],
            **run,  # type: ignore[call-overload]
        )

    def restart(self) -> None:
        """Stop (closing every client's connection) and start again on the same port."""
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-o", self.options]
            + ["-l", str(self.base / "pg.log"), "-m", "fast", "-w", "restart"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        """The server goes away (its clients see connection refused) until resume()."""
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def resume(self) -> None:
        """Start the stopped server again on the same data and port."""
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-o", self.options]
            + ["-l", str(self.base / "pg.log"), "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def new_database(self, stem: str = "kiosk") -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"{stem}_{next(_names)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=kiosk dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://kiosk@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def plain_url(url: str) -> str:
    """The psycopg form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")
