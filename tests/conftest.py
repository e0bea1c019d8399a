"""Fixtures shared by every test area: the repository root and the shared test data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.backend_server import BackendServer
from support.mariadb_server import MariaDB

# A missing server or tool fails a test under CI=true and skips it elsewhere (its hooks).
from support.needs import pytest_configure, pytest_runtest_setup, unavailable  # noqa: F401
from support.postgres_server import NoPostgreSQL, PostgreSQL

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"
ZXING_SAMPLES = SHARED_TESTDATA / "barcodes" / "zxing-cpp"


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/terminal/ui/conftest.py: options must be known before that one loads.
    parser.addoption(
        "--screens",
        default="small",
        help="screen sizes for the UI screenshot test: small (default), all, or a comma list "
        "of landscape, portrait, small",
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def zxing_samples() -> Path:
    if not ZXING_SAMPLES.is_dir():
        pytest.skip(f"shared test data not found at {ZXING_SAMPLES} (clone with shared/ beside it)")
    return ZXING_SAMPLES


@pytest.fixture
def backend_server(tmp_path: Path) -> Iterator[BackendServer]:
    """A fresh real backend (subprocess, demo members, temp SQLite) for one test."""
    with BackendServer(tmp_path / "backend") as server:
        yield server


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    """One real MariaDB for the whole test session (started on first use), SLiMS and
    INLISLite databases made per test in it."""
    missing = [b for b in ("mariadbd", "mariadb-install-db", "mariadb") if not shutil.which(b)]
    if missing:
        unavailable(f"MariaDB server binaries not found: {', '.join(missing)} (mariadb-server)")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("mysql")
        except KeyError:
            unavailable("running as root and there is no 'mysql' account to run MariaDB")
    server = MariaDB()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    """One real PostgreSQL cluster for the whole test session (started on first use); each
    user takes a fresh database with `new_database()`."""
    try:
        server = PostgreSQL()
    except NoPostgreSQL as exc:
        unavailable(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.close()
