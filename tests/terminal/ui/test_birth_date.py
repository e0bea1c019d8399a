"""A typed member number asking internet: the date pad, by touch, against the real backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for
from .test_journey import answer_new_member, credential_in_database, shown_credential

pytestmark = pytest.mark.ui

SHOTS = ARTIFACTS / "birth_date"
SITI = "19000123"  # Siti Aminah, born 2004-08-17 (assets/demo/members.csv)


def to_the_date_pad(kiosk: Harness, number: str = SITI) -> None:
    kiosk.wait_screen("welcome")
    kiosk.type_member(number)
    guestbook = kiosk.wait_screen("guestbook")
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("birth_date")


def test_the_right_birth_date_shows_the_credential(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    kiosk.type_member(SITI)
    kiosk.wait_screen("guestbook")
    assert kiosk.tr("guestbook.welcome", name="Siti A.") in kiosk.texts()
    assert "Aminah" not in kiosk.texts()
    answer_new_member(kiosk)
    kiosk.tap(kiosk.app.screens["guestbook"].ids.submit)
    pad = kiosk.wait_screen("birth_date")
    assert pad.ids.date.text == "__-__-____"
    kiosk.type_birth_date("170")  # Lanjut stays off until all eight digits are in
    assert pad.ids.date.text == "17-0_-____"
    assert pad.ids.ok.disabled
    kiosk.type_birth_date("82004")
    kiosk.wait_screen("credentials")
    assert shown_credential(kiosk) == credential_in_database(backend_server, SITI)


def test_a_wrong_birth_date_says_so_then_the_right_one_shows_the_credential(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    to_the_date_pad(kiosk)
    pad = kiosk.type_birth_date("31022000")  # no such date: refused on the kiosk
    assert pad.ids.error.text == kiosk.tr("birth_date.impossible")
    assert kiosk.app.manager.current == "birth_date"
    kiosk.tap(pad.ids.cancel)  # Batal: back to the guestbook, answers kept
    guestbook = kiosk.wait_screen("guestbook")
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("01012000")  # a real date, not hers: the backend says no
    kiosk.wait_for(lambda: pad.ids.error.text == kiosk.tr("birth_date.wrong"))
    assert kiosk.app.manager.current == "birth_date"
    assert pad.ids.date.text == "__-__-____"
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("credentials")
    assert shown_credential(kiosk) == credential_in_database(backend_server, SITI)


def test_no_birth_date_on_file_records_the_visit_and_says_show_your_card(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    kiosk.type_member("19000103")  # Ahmad Fauzi: no birth date on file
    guestbook = kiosk.wait_screen("guestbook")
    assert kiosk.tr("guestbook.needs_card") in kiosk.texts()
    assert guestbook.ids.internet_panel.opacity == 0 or not kiosk.app.flow.view.internet_allowed
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    assert kiosk.tr("thanks.needs_card") in kiosk.texts()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["id", "en"])
def test_date_pad_screenshots(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
    language: str,
) -> None:
    kiosk = start_kiosk(
        settings_for(backend_server, tmp_path / "kiosk", kiosk={"language": language}),
        size=SIZES[size],
    )
    to_the_date_pad(kiosk)
    pad = kiosk.type_birth_date("1708")
    assert pad.ids.date.text == "17-08-____"  # digits only, no letter that reads as one
    kiosk.screenshot(SHOTS / f"{size}-{language}-date-pad.png")
    kiosk.type_birth_date("2030")  # in the future: refused before sending
    assert pad.ids.error.text == kiosk.tr("birth_date.future")
    kiosk.screenshot(SHOTS / f"{size}-{language}-date-pad-future.png")


def test_the_autopilot_types_the_demo_birth_date_on_the_keypad_path(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    from kiosk.terminal.ui.autopilot import DEMO_MEMBER, Autopilot

    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    pilot = Autopilot(
        kiosk.app, exit_when_done=False, pause_scale=0.05, use_keypad=True, switch_language=False
    )
    # What the credential screen showed, taken when it is shown: the autopilot reads it for
    # 0.3 s and taps "Selesai", which clears it, and a loaded machine can pass 0.3 s between
    # seeing the screen and reading it (CI once read it empty).
    screen = kiosk.app.screens["credentials"]
    shown: list[tuple[str, str]] = []
    remember = screen.fbind(
        "password_groups",
        lambda *_: screen.password_groups and shown.append(shown_credential(kiosk)),
    )
    follow = kiosk.app.manager.fbind("current", lambda *_: pilot._screen_changed())
    try:
        pilot._screen_changed()
        kiosk.wait_screen("credentials", timeout=40)
        assert "birth_date" in [state for _, state in kiosk.app.journey_log]
        assert shown == [credential_in_database(backend_server, DEMO_MEMBER)]
    finally:
        screen.unbind_uid("password_groups", remember)
        kiosk.app.manager.unbind_uid("current", follow)
        pilot.use_keypad = False
        if pilot._plan is not None:
            pilot._plan.cancel()
