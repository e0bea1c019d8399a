"""The console's settings reach a running kiosk at its next Welcome, never during a journey, and
a kiosk that starts with the backend down runs with its last copy (real window, real backend)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit
from support.backend_server import BackendServer

from kiosk.config.guestbook import default_fields

from .conftest import ARTIFACTS, Harness, settings_for
from .test_journey import answer_new_member

pytestmark = pytest.mark.ui


def rename_purpose_question(server: BackendServer, label_id: str, label_en: str) -> None:
    """The library's guestbook changes on the backend (a new version of its settings)."""
    config = tomlkit.parse(server.config_path.read_text(encoding="utf-8")).unwrap()
    fields = [f.model_dump() for f in default_fields()]
    fields[0]["label"] = {"id": label_id, "en": label_en}
    config.setdefault("guestbook", {})["fields"] = fields
    server.stop()
    server.config_path.write_text(tomlkit.dumps(config), encoding="utf-8")
    server.start()


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
    kiosk.wait_for(lambda: kiosk.app.follower.running_version == 0, what="settings applied")
    backend_server.stop()

    kiosk = start_kiosk(settings, follow=True)  # a restart, the backend still down
    assert kiosk.app.follower.running_version == 0
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000123")
    kiosk.wait_screen("guestbook")  # the guestbook works offline (kept in the outbox)
    assert "Keperluan datang" in kiosk.texts() and "Tujuan kunjungan" not in kiosk.texts()
    kiosk.screenshot(ARTIFACTS / "steering" / "offline-start-uses-the-last-copy.png")
