"""A question changed in the console (Debian's Chromium) reaches a running kiosk at its next
Welcome, never during a journey; a kiosk that starts with the backend down runs with its last
copy (real window, real backend)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.backend_server import BackendServer
from support.console_browser import add_admin, admin_page

from .conftest import ARTIFACTS, Harness, settings_for
from .test_journey import answer_new_member

pytestmark = pytest.mark.ui


def rename_purpose_question(server: BackendServer, label_id: str, label_en: str) -> None:
    """An admin renames the first guestbook question on Pengaturan (a new version)."""
    add_admin(server)
    with admin_page(server) as page:
        page.goto("/staff/settings")
        page.fill("#f-guestbook-fields-0-label-id", label_id)
        page.fill("#f-guestbook-fields-0-label-en", label_en)
        with page.expect_navigation():
            page.click("#section-guestbook ~ form button[type=submit]")
        assert page.locator(".notice").count() == 1, page.content()[:2000]
        page.screenshot(path=str(ARTIFACTS / "steering" / "pengaturan-saved.png"), full_page=True)


def test_a_changed_question_appears_at_the_next_welcome_not_during_a_journey(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(backend_server, tmp_path / "kiosk", kiosk={"heartbeat_seconds": 0.2})
    kiosk = start_kiosk(settings, follow=True)
    follower = kiosk.app.follower
    kiosk.wait_for(lambda: follower.running_version == 0, what="first settings applied")
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    assert "Tujuan kunjungan" in kiosk.texts()

    rename_purpose_question(backend_server, "Keperluan datang", "Why you came")
    kiosk.wait_for(lambda: follower._pending is not None, what="the new version fetched")
    kiosk.pump(0.5)  # the app's tick runs: it must leave the patron's screen alone
    assert kiosk.app.manager.current == "guestbook"
    assert "Tujuan kunjungan" in kiosk.texts() and "Keperluan datang" not in kiosk.texts()
    kiosk.screenshot(ARTIFACTS / "steering" / "journey-keeps-its-question.png")

    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("credentials")
    assert follower._pending is not None, "not applied on the credential screen either"
    kiosk.tap(kiosk.button(kiosk.tr("common.done")))
    kiosk.wait_screen("welcome")
    kiosk.wait_for(lambda: follower._pending is None, what="applied at Welcome")
    kiosk.type_member("19000123")
    kiosk.wait_screen("guestbook")
    assert "Keperluan datang" in kiosk.texts() and "Tujuan kunjungan" not in kiosk.texts()
    kiosk.screenshot(ARTIFACTS / "steering" / "next-patron-sees-the-new-question.png")


def test_a_kiosk_starting_with_the_backend_down_runs_with_its_last_copy(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    rename_purpose_question(backend_server, "Keperluan datang", "Why you came")
    settings = settings_for(backend_server, tmp_path / "kiosk", kiosk={"heartbeat_seconds": 0.2})
    kiosk = start_kiosk(settings, follow=True)
    kiosk.wait_for(lambda: kiosk.app.follower.running_version == 1, what="settings applied")
    backend_server.stop()

    kiosk = start_kiosk(settings, follow=True)  # a restart, the backend still down
    assert kiosk.app.follower.running_version == 1
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000123")
    kiosk.wait_screen("guestbook")  # the guestbook works offline (kept in the outbox)
    assert "Keperluan datang" in kiosk.texts() and "Tujuan kunjungan" not in kiosk.texts()
    kiosk.screenshot(ARTIFACTS / "steering" / "offline-start-uses-the-last-copy.png")


def test_the_console_puts_a_kiosk_out_of_service_and_high_contrast_and_back(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(backend_server, tmp_path / "kiosk", kiosk={"heartbeat_seconds": 0.2})
    kiosk = start_kiosk(settings, follow=True)
    kiosk.wait_for(lambda: kiosk.app.follower.running_version == 0, what="settings applied")
    assert not kiosk.app.high_contrast
    add_admin(backend_server)
    with admin_page(backend_server) as page:
        page.goto("/staff/settings")
        page.check("#f-screens-high-contrast")
        with page.expect_navigation():
            page.click("#section-screens ~ form button[type=submit]")
        page.goto("/staff/kiosks")
        row = page.locator("#steering + table tr", has_text="kiosk-pintu-utama")
        with page.expect_navigation():
            row.locator("button", has_text="Hentikan layanan").click()
        kiosk.wait_for(
            lambda: kiosk.app.flow.state.value == "out_of_service" and kiosk.app.high_contrast,
            what="out of service, in high contrast",
        )
        kiosk.screenshot(ARTIFACTS / "steering" / "out-of-service-from-the-console.png")
        row = page.locator("#steering + table tr", has_text="kiosk-pintu-utama")
        with page.expect_navigation():
            row.locator("button", has_text="Layani lagi").click()
    kiosk.wait_for(lambda: kiosk.app.flow.state.value == "idle", what="back in service")
    kiosk.wait_screen("welcome")
    assert kiosk.app.high_contrast, "the console's contrast stays until it changes it"
    kiosk.screenshot(ARTIFACTS / "steering" / "back-in-service-high-contrast.png")
