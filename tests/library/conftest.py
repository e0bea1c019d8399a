"""A fresh SLiMS and INLISLite database pair per test, on the session's MariaDB."""

from __future__ import annotations

import pytest
from support.mariadb_server import Library, MariaDB


@pytest.fixture
def library(mariadb: MariaDB) -> Library:
    if mariadb.process is None or mariadb.process.poll() is not None:
        mariadb.start()  # a test before stopped it
    return Library(mariadb)
