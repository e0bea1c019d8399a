"""axe-core (npm, tests/console/axe) on every console page in both languages at 1366x768
and 768x1024, in Debian's Chromium: no violations, and a screenshot of each to look at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ADMIN, ARTIFACTS

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"1366x768": (1366, 768), "768x1024": (768, 1024)}
PAGES = [
    "",
    "reports",
    "visits",
    "members",
    "members/19000123",
    "credentials",
    "usage",
    "kiosks",
    "settings",
    "settings/history",
    "accounts",
    "audit",
    "password",
]


@pytest.fixture(scope="module")
def axe_context(browser: Any, console_server: BackendServer) -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci --prefix tests/console/axe)")
    # The console's CSP forbids inline scripts, which is how axe is injected.
    ctx = browser.new_context(base_url=console_server.base_url, bypass_csp=True)
    yield ctx
    ctx.close()


def violations_of(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in found]


def test_every_console_page_has_no_axe_violations(
    axe_context: Any, console_server: BackendServer
) -> None:
    console_server.post("/kiosks/heartbeat", json={"kiosk_id": "kiosk-axe", "camera": "ok"})
    page = axe_context.new_page()
    page.goto("/staff/login")
    found: dict[str, list[str]] = {}
    for language in ("id", "en"):
        page.goto(f"/staff/language/{language}?next=/staff/login")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            axe_context.clear_cookies()
            page.goto(f"/staff/language/{language}?next=/staff/login")
            found[f"login-{language}-{size}"] = violations_of(page)
            page.screenshot(
                path=str(ARTIFACTS / f"axe-login-{language}-{size}.png"), full_page=True
            )
            page.fill("#username", ADMIN[0])
            page.fill("#password", ADMIN[1])
            with page.expect_navigation():
                page.click("button[type=submit]")
            for name in PAGES:
                response = page.goto(f"/staff/{name}")
                assert response is not None and response.status == 200, name
                key = f"{name.replace('/', '-') or 'today'}-{language}-{size}"
                found[key] = violations_of(page)
                smallest = page.evaluate(
                    "Math.min(...[...document.querySelectorAll('svg.chart text')]"
                    ".map(t => t.getBoundingClientRect().height), 99)"
                )
                if smallest < 10:  # chart labels drawn smaller than readable
                    found[key].append(f"chart text {smallest:.1f} px high")
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width:  # nothing wider than the screen (a tablet at the desk)
                    found[key].append(f"page {wide} px wide on a {width} px screen")
                page.screenshot(path=str(ARTIFACTS / f"axe-{key}.png"), full_page=True)
    bad = {key: v for key, v in found.items() if v}
    (ARTIFACTS / "axe-results.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
    assert not bad, json.dumps(bad, indent=1)
