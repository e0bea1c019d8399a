"""/docs on an offline LAN (issue 11, item 11): Swagger UI renders in Debian Chromium with
every request outside this backend refused, and the page names no other host. It sits with
the console tests to share their backend and browser."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from support.backend_server import BackendServer

from console.conftest import ARTIFACTS


def test_docs_page_loads_only_from_this_backend(
    console_server: BackendServer, browser: Any
) -> None:
    html = requests.get(f"{console_server.base_url}/docs", timeout=10)
    assert html.status_code == 200
    hosts = {urlsplit(url).netloc for url in re.findall(r"https?://[^\"' )]+", html.text)}
    assert hosts <= {urlsplit(console_server.base_url).netloc}, hosts

    elsewhere: list[str] = []
    own = urlsplit(console_server.base_url).netloc

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page = browser.new_page()
    try:
        page.route("**/*", only_here)
        page.goto(f"{console_server.base_url}/docs")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=15_000)
        assert "Kiosk credential backend" in title.inner_text()
        page.locator(".opblock-summary-path", has_text="/api/v1/checkins").first.wait_for()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    finally:
        page.close()
    assert elsewhere == []
