"""The visitor's keyboard, the group form, a slow typist and the guestbook's layout (issue 30,
items 6, 9-12), by touch in the real window, in both languages and orientations; the screens
go to tests/artifacts/forms/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for
from .test_guests import alone_or_group, guest_chip, guest_rows, type_on_keyboard

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "forms"
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
    **kiosk: Any,
) -> Harness:
    size, language = layout
    settings = settings_for(server, data, kiosk={"language": language, **kiosk})
    harness = start_kiosk(settings, size=SIZES[size])
    harness.wait_screen("welcome")
    return harness


def open_guest_form(kiosk: Harness) -> Any:
    kiosk.tap(kiosk.app.screens["welcome"].ids.not_member)
    return kiosk.wait_screen("guest")


def shot(kiosk: Harness, layout: tuple[str, str], name: str) -> Path:
    return kiosk.screenshot(SHOTS / f"{layout[0]}-{layout[1]}-{name}.png")


def window_y(widget: Any) -> float:
    return float(widget.to_window(widget.x, widget.y)[1])


# ------------------------------------------------------------- 9: the visitor keyboard


def test_the_keyboard_types_an_acronym_in_four_taps_and_stays_put(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    screen = open_guest_form(kiosk)
    keyboard = screen.who.ids.keyboard
    keys = keyboard.keys
    # The accent row is the top row, far from "a" and the space bar.
    assert window_y(keys["â"]) > window_y(keys["1"]) > window_y(keys["q"])
    # The word keys are read from 60-80 cm: at least 24 px at 1080p, scaled.
    for word in ("shift", "caps", "back", "space", "next"):
        assert keys[word].font_size >= 24 * kiosk.app.u, word
    # The first letter empties "Still to fill in: Name": the keys do not move under a finger.
    before = window_y(keys["q"])
    kiosk.tap(keys["r"])
    kiosk.pump(0.2)
    assert window_y(keys["q"]) == before
    type_on_keyboard(kiosk, "ina")
    kiosk.tap(keys["next"])  # Next: from the name to the institution
    assert kiosk.app.flow.view.guest.editing == "institution"
    taps = kiosk.taps
    kiosk.tap(keys["caps"])  # capitals until pressed again
    assert keys["caps"].text == kiosk.tr("keyboard.caps") and keys["caps"].primary
    for letter in "sma":
        kiosk.tap(keys[letter])
    assert kiosk.taps - taps == 4
    assert screen.who.ids.institution_box.value == "SMA"
    shot(kiosk, layout, "guest-caps-lock")
    kiosk.tap(keys["caps"])  # and off again
    kiosk.tap(keys["space"])
    kiosk.tap(keys["n"])
    kiosk.tap(keys["1"])
    kiosk.tap(keys["p"])
    assert screen.who.ids.institution_box.value == "SMA N1p"


# --------------------------------------------------------------- 10 and 12: a group


def test_a_group_types_its_size_on_page_one_and_is_thanked_by_name(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    screen = open_guest_form(kiosk)
    kiosk.tap(alone_or_group(kiosk, "group"))
    who = screen.who.ids
    # Why a group names its institution (a visitor alone need not).
    assert kiosk.tr("guest.institution_group") in who.institution_box.label
    type_on_keyboard(kiosk, "Bu Rina")
    kiosk.tap(who.keyboard.keys["next"])
    type_on_keyboard(kiosk, "SD Negeri 5")
    assert screen.ids.submit.disabled  # the size is not a default of 2: it is asked
    assert kiosk.tr("guest.people") in screen.ids.missing.text
    taps = kiosk.taps
    kiosk.tap(who.keyboard.keys["next"])  # to the number of people
    kiosk.tap(who.keyboard.keys["2"])
    kiosk.tap(who.keyboard.keys["5"])
    assert kiosk.taps - taps == 3
    assert who.size_box.value == "25" and kiosk.app.flow.view.guest.group_size == 25
    shot(kiosk, layout, "group-who")
    kiosk.tap(screen.ids.submit)  # Lanjut
    assert screen.page == "answers" and not screen.steppers
    kiosk.tap(guest_chip(kiosk, "purpose", "membaca"))
    kiosk.tap(screen.ids.submit)
    kiosk.wait_screen("thanks")
    assert kiosk.tr("thanks.title", name="Bu R.") in kiosk.texts()
    shot(kiosk, layout, "group-thanks")
    assert ("Bu Rina", "SD Negeri 5", 25, None) in guest_rows(server)


# -------------------------------------------------------------- 11: a slow typist


def test_every_key_counts_as_presence_and_a_key_during_the_warning_keeps_the_name(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(
        start_kiosk,
        server,
        tmp_path / "k",
        layout,
        timeouts={"guestbook": 30.0, "warning": 2.0},
    )
    screen = open_guest_form(kiosk)
    keys = screen.who.ids.keyboard.keys
    flow = kiosk.app.flow
    for letter in "rina":
        flow._deadline = flow._now() + 5  # as if the visitor had paused 25 s
        kiosk.tap(keys[letter])
        assert flow.seconds_left() > 20, letter  # the key press counted as presence
    flow._deadline = flow._now() + 1.5  # a long pause: the warning opens
    kiosk.wait_for(lambda: screen.still_there.popup is not None, 5, "the warning")
    shot(kiosk, layout, "guest-still-there")
    # The visitor taps the next letter, under the dark overlay, not the warning's button.
    x, y = keys["w"].to_window(*keys["w"].center)
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    kiosk.wait_for(lambda: screen.still_there.popup is None, 5, "the warning closed")
    assert kiosk.app.manager.current == "guest"
    assert screen.who.ids.name_box.value == "Rina"  # nothing typed was lost


# ------------------------------------------------------- 6 and 12: the guestbook's face


def test_the_guestbook_fills_a_portrait_screen_and_says_what_is_missing_beside_kirim(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    layout: tuple[str, str],
) -> None:
    kiosk = open_kiosk(start_kiosk, server, tmp_path / "k", layout)
    kiosk.type_member("19000104")
    guestbook = kiosk.wait_screen("guestbook")
    missing, submit = guestbook.ids.missing, guestbook.ids.submit
    assert missing.text and not missing.bold  # guidance, not an error
    mx = missing.to_window(*missing.center)[0]
    sx, _ = submit.to_window(submit.x, submit.y)
    assert sx <= mx <= sx + submit.width  # right above the button it explains
    assert missing.font_size >= 24 * kiosk.app.u
    fields = guestbook.ids.fields
    top_gap = window_y(guestbook.ids.fields) + fields.height
    height = kiosk.window.height
    if layout[0] == "portrait":
        # The answers sit nearer the middle: no empty middle under chips in the top third.
        assert height - top_gap > height * 0.2
    shot(kiosk, layout, "guestbook-untouched")
