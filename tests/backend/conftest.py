"""Backend test fixtures: one shared real server for contract tests, bodies for requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.backend_server import BackendServer, checkin_body
from support.postgres_server import PostgreSQL

Body = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    """One server for the whole backend session. Tests on it use their own client_refs and
    compare counts before and after, never absolute totals."""
    with BackendServer(tmp_path_factory.mktemp("shared-backend")) as server:
        yield server


@pytest.fixture
def body() -> Body:
    """A valid check-in body with a new client_ref; keyword arguments replace fields."""
    return checkin_body


@pytest.fixture(scope="module")
def postgres_url(postgresql: PostgreSQL) -> str:
    """A fresh database on the session's PostgreSQL cluster, for one test module."""
    return postgresql.new_database()
