"""An admin at the staff console in Debian's Chromium, for tests that drive a kiosk and the
console together."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kiosk.backend.console import accounts
from kiosk.backend.db import create_db_engine, migrate, write_session
from support.backend_server import BackendServer
from support.needs import unavailable

CHROMIUM = "/usr/bin/chromium"
ADMIN = ("kepala-ti", "kata-sandi-admin-9")


def add_admin(server: BackendServer) -> None:
    """The admin account, straight into the server's database."""
    engine = create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)
    try:
        migrate(engine)
        with write_session(engine) as session:
            accounts.add_account(session, *ADMIN, "admin", dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


@contextmanager
def admin_page(server: BackendServer) -> Iterator[Any]:
    """A Chromium page signed in as the admin (confirm dialogs accepted); closed after."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        unavailable(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(base_url=server.base_url)
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto("/staff/login")
            page.fill("#username", ADMIN[0])
            page.fill("#password", ADMIN[1])
            with page.expect_navigation():
                page.click("button[type=submit]")
            yield page
        finally:
            browser.close()
