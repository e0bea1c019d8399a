"""The staff console under test: a real backend on a loopback port with staff accounts, and
one Debian Chromium (driven by Playwright) for the whole session."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer
from support.needs import unavailable

from kiosk.backend.console import accounts
from kiosk.backend.db import create_db_engine, migrate, write_session

CHROMIUM = "/usr/bin/chromium"
ADMIN = ("pustakawan", "kata-sandi-admin-1")
STAFF = ("petugas", "kata-sandi-staf-12")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def add_account(server: BackendServer, username: str, password: str, role: str = "staff") -> None:
    """Straight into the server's database (`kiosk staff add` has its own test): a
    subprocess per account would cost seconds each."""
    engine = create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)
    try:
        migrate(engine)
        with write_session(engine) as session:
            accounts.add_account(session, username, password, role, dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    # Reports are checked on visits from March 2025: keep visits long enough to take them.
    server = BackendServer(tmp_path_factory.mktemp("console"), privacy={"retention_days": 3650})
    for (name, password), role in ((ADMIN, "admin"), (STAFF, "staff")):
        add_account(server, name, password, role)
    yield server
    server.stop()


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and later tests' asyncio.run() would fail. One module uses it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        unavailable(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
