"""What a new patron trips over (issue 17), tried in the real window by touch, in both
languages, portrait and landscape: each test runs as (portrait, English) and (landscape,
Bahasa Indonesia), and photographs the screens it changed into tests/artifacts/journey/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from support.backend_server import BackendServer

from kiosk.terminal.ui import theme

from .conftest import ARTIFACTS, SIZES, Harness, settings_for

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "journey"
LAYOUTS = [("portrait", "en"), ("landscape", "id")]


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
    **overrides: Any,
) -> Harness:
    size, language = layout
    kiosk = start_kiosk(settings_for(server, data, **overrides), size=SIZES[size])
    kiosk.wait_screen("welcome")
    kiosk.app.services.state.update(language=language)  # staff's default language
    kiosk.app.language = language
    kiosk.pump(0.1)
    return kiosk


def shot(kiosk: Harness, layout: tuple[str, str], name: str) -> Path:
    kiosk.pump(0.2)
    return kiosk.screenshot(SHOTS / f"{layout[0]}-{layout[1]}-{name}.png")


def open_keypad(kiosk: Harness) -> Any:
    kiosk.tap(kiosk.button(kiosk.tr("welcome.keypad")))
    return kiosk.wait_screen("keypad")


def press(kiosk: Harness, keypad: Any, digits: str) -> None:
    for digit in digits:
        kiosk.tap(next(w for w in keypad.pad.children if getattr(w, "key", None) == digit))


def drawn_contrast(path: Path | np.ndarray, widget: Any, window: Any) -> float:
    """The contrast of a widget as drawn: its most common colour (the background) against
    the colour farthest from it that covers a few dozen pixels (the core of the letters).
    `path`: the screenshot, or its pixels already read (a screen's many labels)."""
    image = cv2.imread(str(path)) if isinstance(path, Path) else path
    assert image is not None
    x, y = widget.to_window(widget.x, widget.y)
    top = int(window.height - (y + widget.height))
    inset = 8
    region = image[
        top + inset : int(top + widget.height) - inset,
        int(x) + inset : int(x + widget.width) - inset,
    ]
    colours, counts = np.unique(region.reshape(-1, 3), axis=0, return_counts=True)
    background = colours[counts.argmax()].astype(float)
    distance = np.abs(colours.astype(float) - background).sum(axis=1)
    order = np.argsort(-distance)
    covered = 0
    for index in order:
        covered += counts[index]
        if covered >= 40:
            text = colours[index]
            break

    def as_hex(bgr: np.ndarray) -> str:
        b, g, r = (int(v) for v in bgr)
        return f"#{r:02X}{g:02X}{b:02X}"

    return theme.contrast_ratio(as_hex(text), as_hex(background))


# ------------------------------------------------------------ 1 and 7: the guestbook


def test_new_member_is_not_told_of_previous_answers_and_kirim_says_what_is_missing(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    member = "19000101" if layout[1] == "en" else "19000102"  # members with no visit yet
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "kiosk", layout)
    kiosk.type_member(member)
    guestbook = kiosk.wait_screen("guestbook")
    submit = guestbook.ids.submit
    assert submit.disabled
    fields = [f.label.get(layout[1]) for f in guestbook.fields if f.required]
    assert guestbook.ids.missing.text == kiosk.tr("guestbook.missing", fields=", ".join(fields))
    path = shot(kiosk, layout, "guestbook-new-disabled-kirim")
    assert drawn_contrast(path, submit, kiosk.window) >= 4.5

    kiosk.tap(kiosk.chip("purpose", "internet"))
    assert kiosk.tr("guestbook.intro_returning") not in kiosk.texts()
    assert kiosk.tr("guestbook.intro") in kiosk.texts()
    assert guestbook.ids.missing.text == kiosk.tr("guestbook.missing", fields=", ".join(fields[1:]))
    shot(kiosk, layout, "guestbook-new-one-chip")
    kiosk.tap(submit)  # disabled: a tap does nothing
    assert kiosk.app.manager.current == "guestbook"
    kiosk.tap(kiosk.chip("occupation", "mahasiswa"))
    kiosk.tap(kiosk.chip("education", "s1"))
    assert not submit.disabled
    assert guestbook.ids.missing.text == ""
    kiosk.tap(submit)
    kiosk.type_birth_date("14031998" if member == "19000101" else "17012006")
    kiosk.wait_screen("credentials")
    kiosk.tap(kiosk.button(kiosk.tr("common.done")))
    kiosk.wait_screen("welcome")

    # The same member's card again: now the answers were preselected, and the screen says so
    # (a typed number is shown no earlier answers).
    kiosk.app.language = layout[1]
    kiosk.app.act(kiosk.app.flow.card_read, member)
    kiosk.wait_screen("guestbook")
    assert kiosk.tr("guestbook.intro_returning") in kiosk.texts()
    assert guestbook.ids.missing.text == ""
    shot(kiosk, layout, "guestbook-returning")


# ------------------------------------------------------------- 2: the warnings


def test_guestbook_and_keypad_warn_before_clearing_and_one_tap_continues_ten_times(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    # Short timeouts so ten rounds are quick: the warning comes 2 s before the end, after
    # 0.5 s of nothing on the guestbook (a 20 s lead on a 90 s screen, scaled down) and 1 s
    # on the keypad, so a loaded machine types its digits before the warning covers them.
    timeouts = {"guestbook": 2.5, "keypad": 3.0, "warning": 2.0}
    kiosk = open_kiosk(
        start_kiosk, server, tmp_path / "kiosk", layout, kiosk={"timeouts": timeouts}
    )
    keypad = open_keypad(kiosk)
    press(kiosk, keypad, "1900")
    kiosk.wait_for(lambda: keypad.still_there.popup is not None, 4, "the keypad's warning")
    assert kiosk.tr("still_there.title") in kiosk.texts()
    shot(kiosk, layout, "keypad-still-there")
    kiosk.tap(keypad.still_there.popup.ids.keep_going)
    kiosk.wait_for(lambda: keypad.still_there.popup is None, 2, "the warning closed")
    assert kiosk.app.flow.view.keypad_text == "1900"  # nothing typed was lost
    press(kiosk, keypad, "0123")
    kiosk.tap(keypad.ids.ok)

    guestbook = kiosk.wait_screen("guestbook")
    # The warning comes after only 0.5 s of nothing, so on a loaded machine it can open
    # before the first tap lands (CI once saw that): then answer it and tap again.
    for _attempt in range(3):
        if guestbook.still_there.popup is not None:
            kiosk.tap(guestbook.still_there.popup.ids.keep_going)
            kiosk.wait_for(lambda: guestbook.still_there.popup is None, 2, "the warning closed")
        kiosk.tap(kiosk.chip("occupation", "mahasiswa"))
        if kiosk.app.flow.view.answers.get("occupation") == "mahasiswa":
            break
    assert kiosk.app.flow.view.answers.get("occupation") == "mahasiswa"
    warned_before = guestbook.still_there.shown
    for round_ in range(10):
        kiosk.wait_for(lambda: guestbook.still_there.popup is not None, 4, f"warning {round_ + 1}")
        if round_ == 0:
            shot(kiosk, layout, "guestbook-still-there")
        button = guestbook.still_there.popup.ids.keep_going
        assert button.height >= kiosk.app.touch * 1.5  # one large tap
        kiosk.tap(button)
        kiosk.wait_for(lambda: guestbook.still_there.popup is None, 2, "the warning closed")
        assert kiosk.app.manager.current == "guestbook"
    assert guestbook.still_there.shown == warned_before + 10
    assert kiosk.app.flow.view.answers["occupation"] == "mahasiswa"

    # Nobody answers the warning: only then is everything cleared.
    kiosk.wait_for(lambda: guestbook.still_there.popup is not None, 4, "the last warning")
    kiosk.wait_screen("welcome", timeout=4)
    assert guestbook.still_there.popup is None
    assert "Siti Aminah" not in kiosk.texts()


# ------------------------------------------------------- 3: the credential on screen


def test_credential_groups_are_separate_tiles_to_type_without_spaces(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "kiosk", layout)
    # Shown to the camera: these members have no birth date for a typed number's internet.
    kiosk.app.act(kiosk.app.flow.card_read, "19000103" if layout[1] == "en" else "19000104")
    guestbook = kiosk.wait_screen("guestbook")
    for field, choice in (("purpose", "internet"), ("occupation", "swasta"), ("education", "s1")):
        kiosk.tap(kiosk.chip(field, choice))
    kiosk.tap(guestbook.ids.submit)
    screen = kiosk.wait_screen("credentials")
    credential = kiosk.app.flow.view.credential
    assert re.fullmatch(r"[a-hjkmnprtwxy2-9]{10}", credential.password)
    tiles = list(reversed(screen.ids.password.children))
    assert [t.text for t in tiles] == screen.password_groups
    assert "".join(t.text for t in tiles) == credential.password
    assert all(" " not in t.text for t in tiles)
    gaps = [b.x - (a.x + a.width) for a, b in zip(tiles, tiles[1:], strict=False)]
    assert gaps and min(gaps) >= 20 * kiosk.app.u  # a gap, drawn between tiles
    assert kiosk.tr("credentials.no_spaces") in kiosk.texts()
    shot(kiosk, layout, "credentials")


# ----------------------------------------------------------- 4: the typed number


def test_keypad_says_how_a_number_looks_and_continues_only_for_a_possible_one(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "kiosk", layout)
    keypad = open_keypad(kiosk)
    expected = {
        "id": "Nomor anggota: 8 angka, mulai 19",
        "en": "Member number: 8 digits, starting with 19",
    }
    assert keypad.ids.shape.text == expected[layout[1]]
    press(kiosk, keypad, "123")
    assert keypad.ids.ok.disabled
    kiosk.tap(keypad.ids.ok)
    assert kiosk.app.manager.current == "keypad"  # "123" can never be a card: no lookup
    path = shot(kiosk, layout, "keypad-impossible-number")
    assert drawn_contrast(path, keypad.ids.ok, kiosk.window) >= 4.5
    for _ in range(3):
        kiosk.tap(next(w for w in keypad.pad.children if getattr(w, "key", None) == "back"))
    press(kiosk, keypad, "19000132")  # a typo: 32 for 23
    assert not keypad.ids.ok.disabled
    kiosk.tap(keypad.ids.ok)
    kiosk.wait_screen("notice")
    assert kiosk.tr("notice.member_not_found.title") in kiosk.texts()
    shot(kiosk, layout, "notice-not-found-typed")
    taps = kiosk.taps
    kiosk.tap(kiosk.button(kiosk.tr("notice.fix_number", number="19000132")))
    kiosk.wait_screen("keypad")
    assert kiosk.app.flow.view.keypad_text == "19000132"  # still there to correct
    back = next(w for w in keypad.pad.children if getattr(w, "key", None) == "back")
    kiosk.tap(back)
    kiosk.tap(back)
    press(kiosk, keypad, "23")
    kiosk.tap(keypad.ids.ok)
    kiosk.wait_screen("guestbook")
    assert kiosk.taps - taps == 6  # not 11 again


# ---------------------------------------------------------- 8: the same card again


def test_same_card_right_after_selesai_is_ignored_until_a_tap(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    from kiosk.terminal.scanner.worker import ScanEvent

    kiosk = open_kiosk(start_kiosk, server, tmp_path / "kiosk", layout)
    app = kiosk.app

    def show_card(text: str) -> None:  # as the scanner thread reports a read
        app.scanner_event(ScanEvent("card", text, text[1:-1], "Codabar", (), (1280, 720)))
        kiosk.pump(0.1)

    card = "A19000105B" if layout[1] == "en" else "A19000106B"
    show_card(card)
    guestbook = kiosk.wait_screen("guestbook")
    kiosk.tap(kiosk.chip("purpose", "membaca"))
    kiosk.tap(kiosk.chip("occupation", "pelajar"))
    kiosk.tap(kiosk.chip("education", "sma"))
    kiosk.tap(guestbook.ids.internet_panel.ids.switch)  # guestbook only
    kiosk.tap(guestbook.ids.submit)
    kiosk.wait_screen("thanks")
    kiosk.tap(kiosk.button(kiosk.tr("common.done")))
    kiosk.wait_screen("welcome")
    show_card(card)  # the patron still holds the card up
    kiosk.pump(0.5)
    assert app.manager.current == "welcome" and app.flow.state.value == "idle"
    kiosk.tap(app.screens["welcome"].ids.holder)  # someone taps the screen
    show_card(card)
    kiosk.wait_screen("guestbook")


# ---------------------------------------------------------- 6: no camera at all


def test_keypad_only_kiosk_shows_the_pad_and_says_type_your_number(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(
        start_kiosk, server, tmp_path / "kiosk", layout, kiosk={"scanner": {"camera": "none"}}
    )
    welcome = kiosk.app.screens["welcome"]
    text = kiosk.texts()
    assert kiosk.tr("keypad.title") in text
    assert kiosk.tr("welcome.hint") not in text
    assert kiosk.tr("welcome.camera_lost") not in text
    assert welcome.camera.get_root_window() is None  # no empty camera box
    assert welcome.pad.get_root_window() is not None
    shot(kiosk, layout, "welcome-keypad-only")
    press(kiosk, welcome, "1")
    keypad = kiosk.wait_screen("keypad")
    press(kiosk, keypad, "9000123")
    assert kiosk.app.flow.view.keypad_text == "19000123"
    kiosk.tap(keypad.ids.ok)
    kiosk.wait_screen("guestbook")


# -------------------------------------------------------- 10: the library's name


def test_library_name_is_never_cut_in_the_top_bar(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "kiosk", layout)
    label = kiosk.app.root.ids.topbar.ids.library_name
    for language in ("en", "id"):  # the language button's width differs
        kiosk.app.language = language
        kiosk.pump(0.3)
        label.texture_update()
        lines = [
            " ".join(word.text for word in line.words).strip()
            for line in label._label._cached_lines
            if line.words
        ]
        assert len(lines) <= 2
        assert " ".join(lines).split() == kiosk.app.settings.library.name.split()
        assert "…" not in " ".join(lines) and "..." not in " ".join(lines)
    kiosk.app.language = layout[1]
    shot(kiosk, layout, "welcome-top-bar")
