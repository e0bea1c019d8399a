"""Text for every eye (issue 30): every patron screen, the survey's too, in both languages, at
the three window sizes, in normal and enlarged ("Aa") text, photographed into
tests/artifacts/eye/ and checked from what was drawn: every text at least 24 px at 1080p
(scaled, and half as large again when enlarged), none cut, off the window or under the top
bar, and 4.5:1 against its background."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for
from .test_guests import GUEST_ANSWERS, guest_chip, type_on_keyboard
from .test_patron_traps import drawn_contrast

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "eye"
SITI = "19000123"  # born 2004-08-17
MIN_PX = 24  # at a 1080 px short side


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(tmp_path_factory.mktemp("backend")) as running:
        yield running


def shown(widget: Any) -> bool:
    """On the window, with room and not faded out (nor any parent)."""
    if widget.get_root_window() is None or widget.width < 2 or widget.height < 2:
        return False
    node = widget
    while node is not None and node is not node.parent:
        if getattr(node, "opacity", 1) <= 0:
            return False
        node = node.parent
    return True


def texts_drawn(kiosk: Harness) -> list[Any]:
    from kivy.uix.label import Label

    found = []
    for child in kiosk.window.children:
        for widget in child.walk(restrict=True):
            # A lone sign (the "." key) has too few pixels to measure; its key is measured.
            if not isinstance(widget, Label):
                continue
            words = any(ch.isalnum() for ch in widget.text)
            if words and shown(widget):
                found.append(widget)
    return found


def check_screen(kiosk: Harness, tag: str, name: str) -> list[str]:
    """Photograph the screen and return what is wrong with its texts."""
    import cv2
    from kivy.uix.screenmanager import Screen

    path = kiosk.screenshot(SHOTS / f"{tag}-{name}.png")
    pixels = cv2.imread(str(path))  # read once for all the screen's labels
    app = kiosk.app
    smallest = MIN_PX * app.u * app.text_scale - 0.01
    width, height = kiosk.window.size
    faults = []
    for label in texts_drawn(kiosk):
        what = f"{name}: {label.text[:40]!r}"
        screen = next((p for p in iter_parents(label) if isinstance(p, Screen)), None)
        floor = MIN_PX * app.u - 0.01 if label.__class__.__name__ == "FitLabel" else smallest
        if screen is not None and screen.name in ("pin", "maintenance"):
            continue
        if label.font_size < floor:
            faults.append(f"{what} is {label.font_size:.1f} px, under {floor:.1f}")
        label.texture_update()
        tw, th = label.texture_size
        if tw > label.width + 2 or th > label.height + 2:
            faults.append(f"{what} is cut: {tw}x{th} in {label.width:.0f}x{label.height:.0f}")
        x, y = label.to_window(label.x, label.y)
        # A screen's content spilling over its top slides under the top bar.
        ceiling = screen.to_window(screen.x, screen.top)[1] if screen is not None else height
        if x < -1 or y < -1 or x + label.width > width + 1 or y + label.height > height + 1:
            faults.append(f"{what} is off the window at {x:.0f},{y:.0f}")
        elif y + label.height > ceiling + 1:
            faults.append(f"{what} is under the top bar: its top at {y + label.height:.0f}")
        elif label.height > 8 and label.width > 8:
            ratio = drawn_contrast(pixels, label, kiosk.window)
            if ratio < 4.5:
                faults.append(f"{what} has contrast {ratio:.2f}")
    return faults


def walk_survey(kiosk: Harness, tag: str, every_question: bool) -> list[str]:
    """The survey offered on the credential screen, tapped through: every question (or the
    first), then its thank-you; back to Welcome. Returns what is wrong with their texts."""
    from kiosk.terminal.session.survey import ELEMENTS

    faults: list[str] = []
    kiosk.tap(kiosk.app.screens["credentials"].ids.survey_offer)
    survey = kiosk.wait_screen("survey")
    for n, element in enumerate(ELEMENTS, start=1):
        kiosk.wait_for(lambda e=element: survey.element == e, what=f"question {element}")  # type: ignore[misc]
        if every_question or n == 1:
            kiosk.pump(0.15)
            faults += check_screen(kiosk, tag, f"survey-{element}")
        score = n % 4 + 1
        kiosk.tap(next(b for b in survey.ids.answers.children if b.score == score))
    kiosk.wait_for(lambda: survey.done, what="the survey's thank-you")
    kiosk.pump(0.15)
    faults += check_screen(kiosk, tag, "survey-thanks")
    kiosk.tap(survey.ids.stop)
    kiosk.wait_screen("welcome")
    return faults


def iter_parents(widget: Any) -> Iterator[Any]:
    node = widget.parent
    while node is not None and node is not node.parent:
        yield node
        node = node.parent


# Every screen in both languages at every size with the largest text (the strictest floor);
# normal text in both orientations. The small window's normal text is left out: it is the
# landscape layout scaled down, checked there and, at its own size, enlarged.
CASES = (
    [(size, language, True, False) for size in SIZES for language in ("id", "en")]
    + [
        (size, language, False, False)
        for size in ("landscape", "portrait")
        for language in ("id", "en")
    ]
    + [("landscape", "id", False, True), ("portrait", "en", True, True)]  # high contrast
)


# A case walks and measures about 25 screens (up to 2 min on 2 shared cores): `make test`'s 300 s.
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("size", "language", "enlarged", "high_contrast"),
    CASES,
    ids=[
        f"{s}-{lang}-{'aa' if big else 'normal'}{'-hc' if hc else ''}" for s, lang, big, hc in CASES
    ],
)
def test_every_patron_screen_is_readable(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
    language: str,
    enlarged: bool,
    high_contrast: bool,
) -> None:
    import json

    from kiosk.terminal.ui import theme

    data = tmp_path / "k"
    if high_contrast:  # staff switched it on in maintenance (kept in the kiosk state)
        data.mkdir(parents=True)
        (data / "kiosk-state.json").write_text(json.dumps({"high_contrast": True}))
    settings = settings_for(server, data, kiosk={"language": language})
    kiosk = start_kiosk(settings, size=SIZES[size])
    app = kiosk.app
    tag = f"{size}-{language}-{'aa' if enlarged else 'normal'}{'-hc' if high_contrast else ''}"
    faults: list[str] = []
    assert app.palette == theme.palette(high_contrast)

    def enlarge() -> None:
        # The patron taps "Aa" on the screen in front of them.
        if enlarged and app.text_scale == 1.0:
            kiosk.tap(app.root.ids.topbar.ids.text_size)
            kiosk.pump(0.2)
            assert app.text_scale == 1.5

    kiosk.wait_screen("welcome")
    enlarge()
    faults += check_screen(kiosk, tag, "welcome")
    kiosk.tap(kiosk.button(kiosk.tr("welcome.keypad")))
    keypad = kiosk.wait_screen("keypad")
    for digit in SITI:
        kiosk.tap(next(w for w in keypad.pad.children if getattr(w, "key", None) == digit))
    faults += check_screen(kiosk, tag, "keypad")
    kiosk.tap(keypad.ids.ok)
    kiosk.wait_screen("guestbook")
    guestbook = app.screens["guestbook"]
    faults += check_screen(kiosk, tag, "guestbook")
    # Enlarged on a short screen the fields come in pages: at most three to turn through.
    assert guestbook.pages <= 3, f"{guestbook.pages} pages"
    for field, choice in (
        ("purpose", "internet"),
        ("occupation", "mahasiswa"),
        ("education", "s1"),
    ):
        while kiosk.chip(field, choice).get_root_window() is None:
            kiosk.tap(guestbook.ids.next_page)  # enlarged: the fields come in pages
            faults += check_screen(kiosk, tag, f"guestbook-page-{guestbook.page + 1}")
        kiosk.tap(kiosk.chip(field, choice))
    while guestbook.page < guestbook.pages - 1:
        kiosk.tap(guestbook.ids.next_page)
    faults += check_screen(kiosk, tag, "guestbook-answered")
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("1708")
    faults += check_screen(kiosk, tag, "birth-date")
    kiosk.type_birth_date("2004")
    kiosk.wait_screen("credentials")
    faults += check_screen(kiosk, tag, "credentials")
    # The survey (SKM): every question at the largest text, the first one at normal size.
    faults += walk_survey(kiosk, tag, every_question=enlarged)

    kiosk.tap(app.screens["welcome"].ids.not_member)
    guest = kiosk.wait_screen("guest")
    enlarge()  # a new patron: the size went back to normal
    type_on_keyboard(kiosk, "Rina")
    faults += check_screen(kiosk, tag, "guest-who")
    kiosk.tap(guest.ids.submit)
    for field, choice in GUEST_ANSWERS.items():
        kiosk.tap(guest_chip(kiosk, field, choice))
    faults += check_screen(kiosk, tag, "guest-answers")
    kiosk.tap(guest.ids.submit)
    kiosk.wait_screen("thanks")
    faults += check_screen(kiosk, tag, "thanks")
    assert not faults, "\n".join(faults)
