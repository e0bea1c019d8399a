"""What new patrons met on the real window (issue 30): no sentence that misleads a keypad-only
kiosk's patron, an expired member or one who switched internet off, tried by touch in both
languages, portrait and landscape; the screens it changed go to tests/artifacts/words/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "words"
LAYOUTS = [("portrait", "en"), ("landscape", "id")]
EXPIRED = "19000108"  # Muhammad Rizki Pratama, membership ended 2025-06-30
SITI = "19000123"  # born 2004-08-17


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(tmp_path_factory.mktemp("backend")) as running:
        yield running


@pytest.fixture(params=LAYOUTS, ids=["-".join(p) for p in LAYOUTS])
def layout(request: pytest.FixtureRequest) -> tuple[str, str]:
    size, language = request.param
    return size, language


def open_kiosk(
    start_kiosk: Callable[..., Harness],
    server: BackendServer,
    data: Path,
    layout: tuple[str, str],
    camera: str | None = None,
) -> Harness:
    size, language = layout
    settings = settings_for(server, data, kiosk={"language": language})
    kiosk = start_kiosk(settings, camera=camera, size=SIZES[size])
    kiosk.wait_screen("welcome")
    return kiosk


def shot(kiosk: Harness, layout: tuple[str, str], name: str) -> Path:
    return kiosk.screenshot(SHOTS / f"{layout[0]}-{layout[1]}-{name}.png")


def answer(kiosk: Harness, purpose: str = "membaca") -> None:
    kiosk.tap(kiosk.chip("purpose", purpose))
    kiosk.tap(kiosk.chip("occupation", "mahasiswa"))
    kiosk.tap(kiosk.chip("education", "s1"))


# ------------------------------------------- 1: `kiosk demo --camera none` on Welcome


def test_camera_none_on_the_command_line_gives_the_keypad_welcome(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    # The file says camera = "auto"; the command line says none.
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout, camera="none")
    assert kiosk.app.settings.kiosk.scanner.camera != "none"
    welcome = kiosk.app.screens["welcome"]
    text = kiosk.texts()
    assert kiosk.tr("welcome.hint") not in text  # "show your card to the camera"
    assert kiosk.tr("welcome.camera_lost") not in text
    assert kiosk.tr("keypad.title") in text
    assert welcome.camera.get_root_window() is None  # no dark box with a card frame
    shot(kiosk, layout, "welcome-camera-none")
    kiosk.tap(next(w for w in welcome.pad.children if getattr(w, "key", None) == "1"))
    kiosk.wait_screen("keypad")


# ------------------------------------- 2: an expired member is sent to renew, with time


def test_expired_member_is_told_to_renew_not_to_show_the_card(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    kiosk.type_member(EXPIRED)
    guestbook = kiosk.wait_screen("guestbook")
    assert kiosk.tr("guestbook.expired") in kiosk.texts()
    answer(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    text = kiosk.texts()
    assert kiosk.tr("thanks.expired") in text
    assert kiosk.tr("thanks.needs_card") not in text
    # Time to read two sentences slowly and find Selesai.
    assert kiosk.app.flow.seconds_left() > 15
    shot(kiosk, layout, "thanks-expired")
    kiosk.tap(kiosk.button(kiosk.tr("common.done")))
    kiosk.wait_screen("welcome")


# -------------- 3 and 8: internet reads in words; switching it off is a clear button


def test_internet_state_reads_in_words_and_turning_it_off_is_explained(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    kiosk.type_member(SITI)
    guestbook = kiosk.wait_screen("guestbook")
    # 8: a typed number: why nothing is preselected.
    assert kiosk.tr("guestbook.typed_no_answers") in kiosk.texts()
    state, switch = guestbook.ids.internet_panel.ids.state, guestbook.ids.internet_panel.ids.switch
    assert state.text == kiosk.tr("guestbook.internet_on")
    assert switch.text == kiosk.tr("guestbook.internet_turn_off")  # says what it will do
    shot(kiosk, layout, "guestbook-internet-on")
    kiosk.tap(switch)
    assert state.text == kiosk.tr("guestbook.internet_off")
    assert switch.text == kiosk.tr("guestbook.internet_turn_on")
    # The purpose "Internet" while internet is off: the panel says how to get it.
    answer(kiosk, purpose="internet")
    assert kiosk.tr("guestbook.internet_purpose") in state.text
    shot(kiosk, layout, "guestbook-internet-off")
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    assert kiosk.tr("thanks.internet_off") in kiosk.texts()  # not back without a word
    shot(kiosk, layout, "thanks-internet-off")


def drawn_background(path: Path, widget: Any, window: Any) -> str:
    """The colour most of a widget's drawn area has, as #RRGGBB (from the screenshot)."""
    import cv2
    import numpy as np

    image = cv2.imread(str(path))
    assert image is not None
    x, y = widget.to_window(widget.x, widget.y)
    top = int(window.height - (y + widget.height))
    region = image[top + 4 : int(top + widget.height) - 4, int(x) + 4 : int(x + widget.width) - 4]
    colours, counts = np.unique(region.reshape(-1, 3), axis=0, return_counts=True)
    b, g, r = (int(v) for v in colours[counts.argmax()])
    return f"#{r:02X}{g:02X}{b:02X}"


def test_a_guests_internet_switch_reads_in_words_and_colour_like_the_members(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    from kiosk.terminal.ui.widgets.chips import Chip

    from .test_guests import GUEST_ANSWERS, guest_chip, type_on_keyboard
    from .test_text_for_every_eye import check_screen

    size, language = layout
    voucher = {"internet": "voucher"}
    settings = settings_for(server, tmp_path / "k", kiosk={"language": language}, guests=voucher)
    kiosk = start_kiosk(settings, size=SIZES[size])
    kiosk.tap(kiosk.wait_screen("welcome").ids.not_member)
    guest = kiosk.wait_screen("guest")
    type_on_keyboard(kiosk, "Rina")
    kiosk.tap(guest.ids.submit)  # Lanjut: the answers and the internet switch
    panel = guest.answers.ids.internet
    state, switch = panel.ids.state, panel.ids.switch
    palette = kiosk.app.palette
    # Off for a guest until asked: it says so in words, on the warning colour, and the one
    # button says what it will do; it is a button of its own, not one of the answers.
    assert state.text == kiosk.tr("guestbook.internet_off")
    assert switch.text == kiosk.tr("guestbook.internet_turn_on")
    assert not isinstance(switch, Chip) and not switch.disabled
    for field, choice in GUEST_ANSWERS.items():
        kiosk.tap(guest_chip(kiosk, field, choice))
    kiosk.tap(guest_chip(kiosk, "purpose", "internet"))
    assert not kiosk.app.flow.view.want_internet  # an answer is not the switch
    assert kiosk.tr("guestbook.internet_purpose") in state.text  # how to get it, then
    path = shot(kiosk, layout, "guest-internet-off")
    assert drawn_background(path, panel, kiosk.window) == palette["WARNING_BG"]
    faults = check_screen(kiosk, f"{size}-{language}-voucher", "guest-internet-off")
    kiosk.tap(switch)
    assert kiosk.app.flow.view.want_internet
    assert state.text == kiosk.tr("guestbook.internet_on")
    assert switch.text == kiosk.tr("guestbook.internet_turn_off")
    path = shot(kiosk, layout, "guest-internet-on")
    assert drawn_background(path, panel, kiosk.window) == palette["SUCCESS_BG"]
    faults += check_screen(kiosk, f"{size}-{language}-voucher", "guest-internet-on")
    assert not faults, "\n".join(faults)
    kiosk.tap(switch)
    assert not kiosk.app.flow.view.want_internet


def test_turning_internet_back_on_leads_to_the_credential_with_the_month_in_words(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    kiosk.type_member(SITI)
    guestbook = kiosk.wait_screen("guestbook")
    kiosk.tap(guestbook.ids.internet_panel.ids.switch)
    kiosk.tap(guestbook.ids.internet_panel.ids.switch)
    assert guestbook.ids.internet_panel.ids.state.text == kiosk.tr("guestbook.internet_on")
    answer(kiosk)
    kiosk.tap(guestbook.ids.submit)
    pad = kiosk.wait_screen("birth_date")
    # 4: an example date in words, and no letters among the digits.
    assert "17-08-1990" in kiosk.texts()
    kiosk.type_birth_date("170")
    assert pad.ids.date.text == "17-0_-____"
    shot(kiosk, layout, "date-pad-partial")
    kiosk.type_birth_date("82004")
    kiosk.wait_screen("credentials")
    # 7: "Berlaku sampai 9/12 04:38" read as 12 September: the month in words.
    until = next(
        line
        for line in kiosk.texts().splitlines()
        if line.startswith(kiosk.tr("credentials.valid_until", when=""))
    )
    months = "|".join(kiosk.tr("date.months").split())
    assert re.search(rf"(\d{{1,2}} ({months}) )?\d\d:\d\d$", until), until
    assert "/" not in until
    shot(kiosk, layout, "credentials-valid-until")


def test_valid_until_says_the_month_in_words_in_both_languages(
    server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    import datetime as dt

    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", ("landscape", "id"))
    app: Any = kiosk.app
    moment = dt.datetime(2027, 12, 9, 4, 38, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert app.local_time(moment, "id") == "9 Desember 04:38"
    assert app.local_time(moment, "en") == "9 December 04:38"
