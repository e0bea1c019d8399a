"""The Kios page's enrollment codes in Debian's Chromium: made by an admin, shown once in both
languages (axe-core clean), listed while pending, revocable, and traded once by a kiosk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.backend_server import BackendServer

from .conftest import ADMIN, ARTIFACTS, STAFF
from .test_accessibility import AXE, violations_of


@pytest.fixture
def context(browser: Any, console_server: BackendServer) -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci --prefix tests/console/axe)")
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768},
        base_url=console_server.base_url,
        bypass_csp=True,  # axe is injected as a script
    )
    ctx.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))
    yield ctx
    ctx.close()


def sign_in(ctx: Any, user: tuple[str, str], language: str) -> Any:
    page = ctx.new_page()
    page.goto(f"/staff/language/{language}?next=/staff/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def make_code(page: Any, kiosk_id: str, location: str) -> str:
    page.goto("/staff/kiosks")
    page.fill("#code_kiosk_id", kiosk_id)
    page.fill("#code_location", location)
    with page.expect_navigation():
        page.click("form[action='/staff/kiosks/code'] button")
    return str(page.locator("#new-code").inner_text().strip())


def enroll(server: BackendServer, code: str) -> requests.Response:
    return requests.post(server.url("kiosks/enroll"), json={"code": code}, timeout=10)


@pytest.mark.parametrize("language", ["id", "en"])
def test_an_admin_makes_a_code_that_is_shown_once_and_enrolls_one_kiosk(
    context: Any, console_server: BackendServer, language: str
) -> None:
    page = sign_in(context, ADMIN, language)
    kiosk_id = f"kios-kode-{language}"
    code = make_code(page, kiosk_id, "ruang-baca")
    assert len(code) == 9 and code[4] == "-"
    assert f"kiosk enroll {console_server.base_url} {code}" in page.content()
    page.screenshot(path=str(ARTIFACTS / f"kiosks-code-{language}.png"), full_page=True)
    assert violations_of(page) == []
    pending = page.locator("#pending-codes")
    assert kiosk_id in pending.inner_text() and "ruang-baca" in pending.inner_text()
    page.goto("/staff/kiosks")
    assert code not in page.content()  # shown once
    assert kiosk_id in page.locator("#pending-codes").inner_text()
    enrolled = enroll(console_server, code)
    assert enrolled.status_code == 201, enrolled.text
    page.goto("/staff/kiosks")
    assert (
        page.locator("#pending-codes").count() == 0
        or kiosk_id not in page.locator("#pending-codes").inner_text()
    )
    page.goto("/staff/audit")
    log = page.locator("main").inner_text()
    made = "membuat kode pemasangan" if language == "id" else "made an enrollment code"
    used = "kios terpasang dengan kode" if language == "id" else "kiosk enrolled with a code"
    assert made in log and used in log


def test_a_revoked_code_enrolls_nothing_and_wrong_input_is_explained(
    context: Any, console_server: BackendServer
) -> None:
    page = sign_in(context, ADMIN, "en")
    code = make_code(page, "kios-dicabut", "")
    page.goto("/staff/kiosks")
    row = page.locator("#pending-codes tr", has_text="kios-dicabut")
    with page.expect_navigation():
        row.locator("button").click()
    assert "The code was revoked" in page.content()
    refused = enroll(console_server, code)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "enrollment_code_wrong"
    page.fill("#code_kiosk_id", "Kios Salah!")
    page.fill("#code_location", "Ruang Baca")
    with page.expect_navigation():
        page.click("form[action='/staff/kiosks/code'] button")
    summary = page.locator(".error-summary").inner_text()
    assert "Kiosk id" in summary and "Location" in summary
    assert page.locator("#new-code").count() == 0
    page.screenshot(path=str(ARTIFACTS / "kiosks-code-error-en.png"), full_page=True)


def test_staff_without_the_admin_role_cannot_make_codes(
    context: Any, console_server: BackendServer
) -> None:
    page = sign_in(context, STAFF, "id")
    page.goto("/staff/credentials")  # a desk page with forms: the session's own CSRF token
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(
        "/staff/kiosks/code", form={"csrf": csrf, "kiosk_id": "kios-x", "location": ""}
    )
    assert answer.status == 403
