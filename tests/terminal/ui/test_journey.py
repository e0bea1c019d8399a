"""The patron's journey in the real app, against the real backend on loopback."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import Harness, settings_for

pytestmark = pytest.mark.ui


def credential_in_database(backend_server: BackendServer, member_id: str) -> tuple[str, str]:
    with sqlite3.connect(backend_server.database_path) as db:
        rows = db.execute(
            "SELECT username, password FROM credentials WHERE member_id = ? AND revoked = 0",
            (member_id,),
        ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def visits_in_database(backend_server: BackendServer) -> list[tuple[str, str]]:
    with sqlite3.connect(backend_server.database_path) as db:
        return db.execute("SELECT client_ref, member_id FROM visits ORDER BY id").fetchall()


def shown_credential(kiosk: Harness) -> tuple[str, str]:
    screen = kiosk.app.screens["credentials"]
    return "".join(screen.username_groups), "".join(screen.password_groups)


def answer_new_member(kiosk: Harness) -> None:
    kiosk.tap(kiosk.chip("purpose", "internet"))
    kiosk.tap(kiosk.chip("occupation", "mahasiswa"))
    kiosk.tap(kiosk.chip("education", "s1"))


def test_member_types_number_signs_guestbook_and_sees_the_issued_credential(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    # A typed number is not the card: a masked name, and internet needs the birth date.
    assert kiosk.tr("guestbook.welcome", name="Siti A.") in kiosk.texts()
    assert guestbook.ids.submit.disabled
    answer_new_member(kiosk)
    assert not guestbook.ids.submit.disabled
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("credentials")
    assert shown_credential(kiosk) == credential_in_database(backend_server, "19000123")

    # The same member again: same credential; a typed number sees no earlier answers.
    kiosk.tap(kiosk.button(kiosk.tr("common.done")))
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    assert "occupation" not in kiosk.app.flow.view.answers
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("credentials")
    assert kiosk.app.flow.view.credential.reused
    assert shown_credential(kiosk) == credential_in_database(backend_server, "19000123")
    assert kiosk.tr("credentials.title_reused") in kiosk.texts()


def test_journey_in_english_after_the_language_toggle(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    kiosk.tap(kiosk.button("English"))
    assert kiosk.app.language == "en"
    assert "Hold your member card up to the camera" in kiosk.texts()
    kiosk.type_member("19000123")
    kiosk.wait_screen("guestbook")
    assert "Welcome, Siti A." in kiosk.texts()
    answer_new_member(kiosk)
    kiosk.tap(kiosk.app.screens["guestbook"].ids.submit)
    pad = kiosk.type_birth_date("17082004")
    assert pad.ids.date.text == "17-08-2004"
    kiosk.wait_screen("credentials")
    assert "Your internet access" in kiosk.texts()
    assert "Password" in kiosk.texts()
    kiosk.tap(kiosk.button("Done"))
    kiosk.wait_screen("welcome")
    assert kiosk.app.language == "id"  # the next patron starts in the default language
    assert kiosk.tr("welcome.hint") in kiosk.texts()


def test_guestbook_only_visit_gets_thanks_and_no_credential(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.type_member("19000126")
    guestbook = kiosk.wait_screen("guestbook")
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.internet_panel.ids.switch)
    assert kiosk.app.flow.view.want_internet is False
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    with sqlite3.connect(backend_server.database_path) as db:
        assert db.execute(
            "SELECT count(*) FROM credentials WHERE member_id='19000126'"
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM visits WHERE member_id='19000126'").fetchone() == (
            1,
        )


@pytest.mark.parametrize(
    ("member", "banner"), [("19000124", "guestbook.expired"), ("19000125", "guestbook.blocked")]
)
def test_expired_or_blocked_member_signs_guestbook_without_internet(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    member: str,
    banner: str,
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.type_member(member)
    guestbook = kiosk.wait_screen("guestbook")
    assert kiosk.tr(banner) in kiosk.texts()
    assert guestbook.ids.internet_panel.ids.switch.disabled
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    assert [m for _, m in visits_in_database(backend_server)] == [member]


def test_unknown_member_number_gets_member_not_found(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.type_member("19999999")
    kiosk.wait_screen("notice")
    assert kiosk.tr("notice.member_not_found.title") in kiosk.texts()
    kiosk.tap(kiosk.button(kiosk.tr("notice.fix_number", number="19999999")))
    kiosk.wait_screen("keypad")
    kiosk.tap(kiosk.button(kiosk.tr("common.cancel")))
    kiosk.wait_screen("welcome")


def test_backend_stopped_before_checkin_keeps_the_guestbook_and_sends_it_once(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    answer_new_member(kiosk)
    backend_server.stop()
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("notice")
    assert kiosk.tr("notice.backend_unreachable.title") in kiosk.texts()
    outbox = kiosk.app.services.outbox
    kiosk.wait_for(lambda: outbox.pending_count() == 1, what="the visit in the outbox")
    (kept,) = outbox.due(now=1e12)
    backend_server.start()
    kiosk.app.services.sender.wake()
    kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="the outbox emptied")
    assert [m for _, m in visits_in_database(backend_server)] == ["19000123"]
    # The same entry sent again (a lost answer, a restored outbox) is a replay, not a visit.
    outbox.put(kept.body)
    kiosk.app.services.sender.wake()
    kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="the resend answered")
    assert len(visits_in_database(backend_server)) == 1


def test_backend_down_at_lookup_still_keeps_the_guestbook(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    backend_server.stop()
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    assert kiosk.tr("guestbook.offline") in kiosk.texts()
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("notice")
    kiosk.wait_for(lambda: kiosk.app.services.outbox.pending_count() == 1)


def test_idle_timeout_mid_guestbook_leaves_nothing_of_the_patron(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server, tmp_path / "kiosk", kiosk={"timeouts": {"guestbook": 1.5}}
    )
    kiosk = start_kiosk(settings)
    kiosk.type_member("19000123")
    kiosk.wait_screen("guestbook")
    kiosk.tap(kiosk.chip("occupation", "mahasiswa"))
    guestbook = kiosk.app.screens["guestbook"]
    guestbook.open_entry(next(f for f in guestbook.fields if f.key == "institution"))
    kiosk.pump(0.2)
    kiosk.wait_screen("welcome", timeout=5)
    kiosk.pump(0.2)
    text = kiosk.texts()
    assert "Siti Aminah" not in text
    assert "19000123" not in text
    assert kiosk.app.flow.view.answers == {}


def test_escape_and_window_close_do_not_leave_the_kiosk(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    window: Any = kiosk.window
    assert window.dispatch("on_keyboard", 27, 0, "", []) is True
    assert window.dispatch("on_request_close") is True
    kiosk.pump(0.1)
    assert kiosk.app.manager.current == "welcome"


def test_backend_that_accepts_and_never_replies_does_not_freeze_the_kiosk(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server, tmp_path / "kiosk", kiosk={"read_timeout": 1.0, "timeouts": {"lookup": 3.0}}
    )
    kiosk = start_kiosk(settings)
    backend_server.pause()  # SIGSTOP: connections are accepted, nothing is answered
    try:
        kiosk.type_member("19000123")
        started = time.monotonic()
        loops = 0
        while kiosk.app.manager.current != "guestbook":  # the UI loop keeps turning meanwhile
            kiosk.pump(0.05)
            loops += 1
            assert time.monotonic() - started < 10, "no offline guestbook after the lookup timeout"
        assert loops > 20
        guestbook = kiosk.wait_screen("guestbook")
        assert kiosk.tr("guestbook.offline") in kiosk.texts()
        answer_new_member(kiosk)
        kiosk.tap(guestbook.ids.submit)
        kiosk.wait_screen("notice", timeout=20)
        kiosk.wait_for(lambda: kiosk.app.services.outbox.pending_count() == 1)
    finally:
        backend_server.resume()
    kiosk.app.services.sender.wake()
    kiosk.wait_for(lambda: kiosk.app.services.outbox.pending_count() == 0, timeout=30)
    assert [m for _, m in visits_in_database(backend_server)] == ["19000123"]
