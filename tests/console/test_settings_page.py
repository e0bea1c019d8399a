"""Pengaturan in Debian's Chromium: a change reaches a kiosk's settings, a wrong value is refused
beside its field with the input kept, two admins at once, history and restore, a location's
overrides, the guestbook preview, and the Kios page's versions and service switch."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.backend_server import JAKARTA, BackendServer, checkin_body

from kiosk.backend.db import create_db_engine, write_session
from kiosk.backend.steering.locations import Location, place_kiosk, save_location
from kiosk.config.steered import SteeredSettings, parse_steered

from .conftest import ADMIN, ARTIFACTS, STAFF

LAMA = re.compile("^kiosk-lama$")


@pytest.fixture
def context(browser: Any, console_server: BackendServer) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=console_server.base_url
    )
    ctx.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))
    yield ctx
    ctx.close()


def sign_in(ctx: Any, user: tuple[str, str] = ADMIN, language: str = "id") -> Any:
    page = ctx.new_page()
    page.goto(f"/staff/language/{language}?next=/staff/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    return page


def served(server: BackendServer, kiosk_id: str = "kiosk-pintu-utama") -> dict[str, Any]:
    answer = server.get(f"/kiosks/{kiosk_id}/settings")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"settings-{name}.png"), full_page=True)


def test_staff_get_403_and_admins_find_pengaturan_in_the_menu(context: Any) -> None:
    staff = sign_in(context, STAFF)
    assert staff.goto("/staff/settings").status == 403
    assert staff.goto("/staff/settings/history").status == 403
    context.clear_cookies()
    admin = sign_in(context)
    admin.click("nav.main >> text=Pengaturan")
    admin.wait_for_url("**/staff/settings")
    assert admin.locator("h1").inner_text() == "Pengaturan kios"


def test_a_changed_guestbook_answer_reaches_the_kiosks_settings_and_the_audit(
    context: Any, console_server: BackendServer
) -> None:
    before = served(console_server)
    page = sign_in(context)
    page.goto("/staff/settings")
    choices = page.locator("#f-guestbook-fields-0-choices")
    choices.fill(choices.input_value().replace("| Membaca |", "| Membaca buku |"))
    page.fill("#f-guestbook-fields-1-position", "9")  # occupation goes last
    with page.expect_navigation():
        page.click("#section-guestbook ~ form button[type=submit]")
    assert "Pengaturan disimpan" in page.locator(".notice").inner_text()
    after = served(console_server)
    assert after["version"] == before["version"] + 1
    fields = parse_steered(after["settings"]).guestbook.fields
    assert fields[0].choices[1].label.id == "Membaca buku"
    assert fields[-1].key == "occupation"
    preview = page.locator(".kiosk-preview")
    assert "Membaca buku" in preview.inner_text()
    labels = preview.locator(".kiosk-label").all_inner_texts()
    assert labels[-1].startswith("Pekerjaan")
    page.goto("/staff/audit")
    row = page.locator("tbody tr").first.inner_text()
    assert "Pengaturan disimpan" in row and "guestbook.fields" in row
    page.goto("/staff/reports")  # the reports name the answers as Pengaturan does now
    assert "Membaca buku" in page.locator(".breakdown").first.inner_text()


def test_a_wrong_value_is_refused_beside_its_field_and_the_input_stays(
    context: Any, console_server: BackendServer
) -> None:
    before = served(console_server)
    page = sign_in(context, language="en")
    page.goto("/staff/settings")
    page.fill("#f-screens-timeouts-lookup", "0")
    page.fill("#f-screens-timeouts-keypad", "lama")
    page.check("#f-screens-high-contrast")
    with page.expect_navigation():
        page.click("#section-screens ~ form button[type=submit]")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    links = summary.locator("a")
    assert {links.nth(i).get_attribute("href") for i in range(links.count())} == {
        "#f-screens-timeouts-lookup",
        "#f-screens-timeouts-keypad",
    }
    assert "Must be more than 0" in page.locator("#f-screens-timeouts-lookup-error").inner_text()
    assert "Enter a number" in page.locator("#f-screens-timeouts-keypad-error").inner_text()
    assert page.input_value("#f-screens-timeouts-keypad") == "lama"  # nothing lost
    assert page.is_checked("#f-screens-high-contrast")
    shot(page, "error-en")
    links.first.click()
    assert page.evaluate("document.activeElement.id") == "f-screens-timeouts-lookup"
    assert served(console_server) == before  # the kiosks keep the last good version


def test_two_admins_at_once_the_second_is_told_and_keeps_the_input(
    context: Any, browser: Any, console_server: BackendServer
) -> None:
    first = sign_in(context)
    other_context = browser.new_context(base_url=console_server.base_url)
    try:
        second = sign_in(other_context)
        first.goto("/staff/settings")
        second.goto("/staff/settings")
        first.fill("#f-library-wifi-ssid", "Perpus-Satu")
        with first.expect_navigation():
            first.click("#section-library ~ form button[type=submit]")
        second.fill("#f-library-city", "Pangkalpinang")
        with second.expect_navigation():
            second.click("#section-library ~ form button[type=submit]")
        message = second.locator(".error-summary").inner_text()
        assert "Admin lain menyimpan pengaturan" in message
        assert second.input_value("#f-library-city") == "Pangkalpinang"
        assert served(console_server)["settings"]["library"]["city"] != "Pangkalpinang"
        shot(second, "stale-id")
        with second.expect_navigation():  # saved again, knowingly
            second.click("#section-library ~ form button[type=submit]")
        assert served(console_server)["settings"]["library"]["city"] == "Pangkalpinang"
    finally:
        other_context.close()


def test_history_restores_an_earlier_version_as_a_new_one(
    context: Any, console_server: BackendServer
) -> None:
    page = sign_in(context)
    page.goto("/staff/settings")
    page.uncheck("#f-skm-enabled")
    with page.expect_navigation():
        page.click("#section-skm ~ form button[type=submit]")
    turned_off = served(console_server)
    assert turned_off["settings"]["skm"]["enabled"] is False
    page.goto("/staff/settings/history")
    shot(page, "history-id")
    with page.expect_navigation():
        page.click(f"button[aria-label='Pulihkan versi {turned_off['version'] - 1}']")
    assert "dipulihkan" in page.locator(".notice").inner_text()
    restored = served(console_server)
    assert restored["version"] == turned_off["version"] + 1
    assert restored["settings"]["skm"]["enabled"] is True


def test_a_locations_overrides_reach_only_its_kiosks(
    context: Any, console_server: BackendServer
) -> None:
    console_server.post("/kiosks/heartbeat", json={"kiosk_id": "kiosk-anak"})
    page = sign_in(context)
    page.goto("/staff/settings")
    page.fill("#loc-code", "ruang-anak")
    page.fill("#loc-name", "Ruang Baca Anak")
    page.fill("#loc-room-code", "RBA")
    page.fill("#loc-overrides", '{"skm": {"enabled": "kadang"}}')
    with page.expect_navigation():
        page.click("#section-locations ~ form button[type=submit]")
    assert page.locator("#loc-overrides-error").is_visible()
    assert page.input_value("#loc-name") == "Ruang Baca Anak"
    page.fill("#loc-overrides", '{"library": {"name": "Ruang Baca Anak"}}')
    with page.expect_navigation():
        page.click("#section-locations ~ form button[type=submit]")
    page.click("a[aria-label='Ubah lokasi Ruang Baca Anak']")  # the form, filled to change
    assert page.input_value("#loc-room-code") == "RBA"
    assert "Ruang Baca Anak" in page.input_value("#loc-overrides")
    page.goto("/staff/kiosks")
    page.select_option("#location-kiosk-anak", "ruang-anak")
    with page.expect_navigation():
        page.click("#place-kiosk-anak button")
    anak = served(console_server, "kiosk-anak")
    assert anak["location"] == "ruang-anak"
    assert anak["settings"]["library"]["name"] == "Ruang Baca Anak"
    assert served(console_server)["settings"]["library"]["name"] != "Ruang Baca Anak"


def test_the_kiosk_page_shows_versions_and_switches_service(
    context: Any, console_server: BackendServer
) -> None:
    current = served(console_server)["version"]
    beat = {"kiosk_id": "kiosk-lama", "settings_version": 0}
    assert console_server.post("/kiosks/heartbeat", json=beat).status_code == 200
    page = sign_in(context)
    page.goto("/staff/kiosks")
    row = page.locator("#steering + table tr", has=page.locator("td", has_text=LAMA))
    assert f"v0 (sekarang v{current})" in row.inner_text()
    with page.expect_navigation():
        row.locator("button", has_text="Hentikan layanan").click()
    assert served(console_server, "kiosk-lama")["in_service"] is False
    row = page.locator("#steering + table tr", has=page.locator("td", has_text=LAMA))
    with page.expect_navigation():
        row.locator("button", has_text="Layani lagi").click()
    assert served(console_server, "kiosk-lama")["in_service"] is True
    shot(page, "kiosks-id")
    page.goto("/staff/audit")
    assert "Status layanan kios" in page.locator("tbody tr").first.inner_text()
    shot(page, "audit-id")


def test_screenshots_of_pengaturan_in_both_languages(context: Any) -> None:
    for language in ("id", "en"):
        page = sign_in(context, language=language)
        page.goto("/staff/settings")
        shot(page, f"page-{language}")
        page.locator(".kiosk-preview").screenshot(
            path=str(ARTIFACTS / f"settings-preview-{language}.png")
        )
        context.clear_cookies()


def test_laporan_and_the_dinas_export_filter_by_location(
    context: Any, console_server: BackendServer
) -> None:
    engine = create_db_engine(f"sqlite:///{console_server.database_path}", pool_size=1)
    try:
        with write_session(engine) as session:
            save_location(session, Location("lantai-3", "Lantai 3", "LT3"), SteeredSettings())
            place_kiosk(session, "kiosk-lantai-3", "lantai-3")
    finally:
        engine.dispose()
    moment = dt.datetime(2025, 6, 11, 10, 15, tzinfo=JAKARTA)
    for kiosk_id in ("kiosk-lantai-3", "kiosk-lantai-3", "kiosk-pintu-utama"):
        body = checkin_body(want_internet=False, kiosk_id=kiosk_id)
        body["occurred_at"] = moment.isoformat()
        moment += dt.timedelta(minutes=1)
        assert console_server.post("/visits", json=body).status_code == 201
    page = sign_in(context)
    page.goto("/staff/reports?period=custom&start=2025-06-11&end=2025-06-11")
    assert page.inner_text("#report-total") == "3"
    page.select_option("#location", "lantai-3")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.inner_text("#report-total") == "2"
    csv_link = page.locator("a[href*='visits.csv']").get_attribute("href")
    assert csv_link is not None and "location=lantai-3" in csv_link
    exported = page.request.get(csv_link)
    assert exported.ok and "Lantai 3" in exported.text()
    everyone = page.request.get("/staff/reports/visits.csv?from=2025-06-11&to=2025-06-11")
    assert "Lantai 3" not in everyone.text()
    survey = {
        "client_ref": str(uuid.uuid4()),
        "kiosk_id": "kiosk-pintu-utama",  # not on Lantai 3
        "occurred_at": moment.isoformat(),
        "answers": {"u1": 4},
    }
    assert console_server.post("/satisfaction", json=survey).status_code == 201
    page.click("#skm-link")
    page.wait_for_url("**/reports/skm?**")
    assert page.locator("#skm-none").is_visible()  # the survey came from another location
    assert page.input_value("#location") == "lantai-3"
    page.select_option("#location", "")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.locator("#skm-none").count() == 0


def test_a_wrong_question_is_refused_beside_it_and_the_questions_stay_as_typed(
    context: Any, console_server: BackendServer
) -> None:
    before = served(console_server)
    page = sign_in(context)
    page.goto("/staff/settings")
    page.fill("#f-guestbook-fields-1-key", "Pekerjaan Baru")  # not a key
    choices = page.locator("#f-guestbook-fields-0-choices")
    answers = choices.input_value()
    choices.fill(answers + "\nhanya satu bagian")
    page.fill("#f-guestbook-fields-4-key", "hobi")  # the new question, with no answers
    page.fill("#f-guestbook-fields-4-label-id", "Hobi")
    page.fill("#f-guestbook-fields-4-label-en", "Hobby")
    with page.expect_navigation():
        page.click("#section-guestbook ~ form button[type=submit]")
    hrefs = page.locator(".error-summary a").evaluate_all("links => links.map(a => a.hash)")
    assert set(hrefs) == {"#f-guestbook-fields-1-key", "#f-guestbook-fields-0-choices"}
    assert "Baris jawaban" in page.inner_text("#f-guestbook-fields-0-choices-error")
    assert page.input_value("#f-guestbook-fields-1-key") == "Pekerjaan Baru"
    assert page.input_value("#f-guestbook-fields-4-label-en") == "Hobby"
    page.fill("#f-guestbook-fields-1-key", "pekerjaan_baru")
    choices.fill(answers)
    with page.expect_navigation():
        page.click("#section-guestbook ~ form button[type=submit]")
    hrefs = page.locator(".error-summary a").evaluate_all("links => links.map(a => a.hash)")
    assert hrefs == ["#f-guestbook-fields-4-choices"]  # a choice question needs its answers
    assert "hobi" in page.inner_text("#f-guestbook-fields-4-choices-error")
    assert served(console_server) == before
