"""One real MariaDB for the whole test session, with SLiMS and INLISLite tables."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from support.mariadb_server import Library, MariaDB


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    missing = [b for b in ("mariadbd", "mariadb-install-db", "mariadb") if not shutil.which(b)]
    if missing:
        pytest.skip(f"MariaDB server binaries not found: {', '.join(missing)} (mariadb-server)")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("mysql")
        except KeyError:
            pytest.skip("running as root and there is no 'mysql' account to run MariaDB")
    server = MariaDB()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def library(mariadb: MariaDB) -> Library:
    if mariadb.process is None or mariadb.process.poll() is not None:
        mariadb.start()  # a test before stopped it
    return Library(mariadb)
