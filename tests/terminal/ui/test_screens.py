"""Every screen, in both languages, photographed into tests/artifacts/screens/ with a contact
sheet; and the notices reached by their real causes.

`make test` photographs one size (1280x800); `make screenshots` (--screens=all) all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from support.backend_server import BackendServer, free_port

from kiosk.terminal.pin import hash_pin
from kiosk.terminal.session.patron_session import Credential, Notice

from .conftest import ARTIFACTS, SIZES, Harness, settings_for

pytestmark = pytest.mark.ui
SCREENS = ARTIFACTS / "screens"
LAST = {"purpose": "internet", "occupation": "mahasiswa", "education": "s1"}
CREDENTIAL = Credential(
    "pk7m3xq", "Hq4tZ8wa", dt.datetime.now(dt.UTC) + dt.timedelta(hours=24), reused=False
)


def chosen_sizes(config: pytest.Config) -> list[str]:
    option = config.getoption("--screens")
    return list(SIZES) if option == "all" else [s for s in option.split(",") if s in SIZES]


def bright_pixels(path: Path) -> int:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return int((image > 200).sum())


def small_touch_targets(kiosk: Harness) -> list[str]:
    """Buttons on screen (popups included) smaller than 15 mm in either direction."""
    from kivy.metrics import mm
    from kivy.uix.behaviors import ButtonBehavior

    floor = mm(15) - 0.5
    small = []
    for root in kiosk.window.children:
        for widget in root.walk(restrict=True):
            if not isinstance(widget, ButtonBehavior) or widget.get_root_window() is None:
                continue
            if widget.opacity == 0 or widget.height == 0:
                continue  # not drawn (an unused keypad of a popup, a hidden switch)
            if widget.width < floor or widget.height < floor:
                small.append(f"{getattr(widget, 'text', '')!r} {widget.size}")
    return small


SCREEN_PIN = "2468"
SCREEN_PIN_HASH = hash_pin(SCREEN_PIN, n=1024)  # cheap to check; the same format
# Every notice a patron can meet on screen.
PATRON_NOTICES = list(Notice)
GUEST_ANSWERS = {"purpose": "membaca", "occupation": "pelajar", "education": "sma"}
# The guest screens photographed after the notices (issue 16).
GUEST_SHOTS = 7


def start_guest(flow: Any, name: str = "rina maharani", group: bool = False) -> None:
    """A guest's form filled in through the flow's events (the keyboard's keys)."""
    flow.guest_open(group)
    for ch in name:
        flow.guest_press("space" if ch == " " else ch)
    flow.guest_edit("institution")
    for ch in "sma negeri 1 pangkalpinang":
        flow.guest_press("space" if ch == " " else ch)


def reach_notice(flow: Any, notice: Notice) -> None:
    """Each notice the way a patron meets it, through the flow's events only."""
    if notice is Notice.card_not_recognised:
        flow.card_rejected("9780306406157")
        return
    if notice is Notice.guest_internet_unavailable:
        start_guest(flow)
        for key, value in {**GUEST_ANSWERS, "gender": "perempuan"}.items():
            flow.guest_answer(key, value)
        flow.guest_want_internet(True)
        (sent,) = flow.guest_submit()
        flow.guest_failed(sent.journey, "guest_internet_unavailable")
        assert flow.view.notice is notice
        return
    if notice is Notice.show_card:  # a typed number's birth dates were wrong too often
        flow.keypad_open()
        for key in "19000123":
            flow.keypad_press(key)
        (lookup,) = flow.keypad_submit()
        flow.lookup_succeeded(
            lookup.journey,
            name="Siti A.",
            status="active",
            last_answers={},
            verification="birth_date",
        )
        for key, value in LAST.items():
            flow.answer(key, value)
        flow.submit()
        for key in "01012000":
            flow.date_press(key)
        flow.date_submit()
        flow.checkin_failed(lookup.journey, "verification_locked")
        assert flow.view.notice is notice
        return
    journey = flow.card_read("A19000123B")[1].journey
    if notice is Notice.busy:
        flow.queue_failed(journey)  # the outbox could not keep the entry
    elif notice is Notice.backend_unreachable:
        flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=LAST)
        flow.submit()
        flow.checkin_failed(journey, "unreachable")
    else:
        flow.lookup_failed(journey, notice.value)
    assert flow.view.notice is notice


def a_camera_frame() -> np.ndarray:
    from kiosk.demo.footage import card_frame
    from kiosk.demo.membercard import MemberCard

    frame: np.ndarray = card_frame(MemberCard())
    return frame


def photograph_every_screen(kiosk: Harness, out: Path, size: str, language: str) -> list[Path]:
    app, flow = kiosk.app, kiosk.app.flow
    shots: list[Path] = []

    def shot(name: str) -> None:
        kiosk.pump(0.25)
        path = kiosk.screenshot(out / f"{size}-{language}-{name}.png")
        assert bright_pixels(path) > 1000, f"{path} looks empty"
        assert small_touch_targets(kiosk) == [], f"{name}: touch targets under 15 mm"
        shots.append(path)

    # As staff setting the default language: each patron's session then starts in it.
    app.services.state.update(language=language)
    app.language = language
    flow.reset()
    flow.camera_changed(True)  # the tests' kiosk has no camera: show Welcome as with one
    kiosk.wait_screen("welcome")
    try:
        frame = a_camera_frame()
        app.screens["welcome"].camera.show_frame(frame)
    except ImportError:
        frame = None
    shot("01-welcome")
    flow.camera_changed(False)
    shot("02-welcome-no-camera")

    kiosk.tap(kiosk.button(kiosk.tr("welcome.keypad")))
    kiosk.wait_screen("keypad")
    for key in "1900":
        app.act(app.flow.keypad_press, key)
    shot("03-keypad")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000123B")[1].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=None)
    kiosk.wait_screen("guestbook")
    shot("04-guestbook-new")
    guestbook = app.screens["guestbook"]
    guestbook.open_entry(next(f for f in guestbook.fields if f.kind == "text"))
    shot("05-guestbook-keyboard")
    guestbook.entry_popup.dismiss(animation=False)
    guestbook.open_privacy()
    shot("06-guestbook-privacy")
    guestbook.privacy_popup.dismiss(animation=False)
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000123B")[1].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=LAST)
    kiosk.wait_screen("guestbook")
    shot("07-guestbook-returning")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000124B")[1].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Agus Salim", status="expired", last_answers=LAST)
    kiosk.wait_screen("guestbook")
    shot("08-guestbook-expired")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000123B")[1].journey  # type: ignore[union-attr]
    flow.lookup_failed(journey, "unreachable")
    kiosk.wait_screen("guestbook")
    shot("09-guestbook-offline")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000123B")[1].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=LAST)
    flow.submit()
    kiosk.wait_for(lambda: flow.state.value == "checking_in")
    flow.checkin_succeeded(journey, CREDENTIAL)
    kiosk.wait_screen("credentials")
    shot("10-credentials")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    journey = flow.card_read("A19000123B")[1].journey  # type: ignore[union-attr]
    flow.lookup_succeeded(journey, name="Siti Aminah", status="active", last_answers=LAST)
    flow.submit()
    flow.checkin_succeeded(journey, None)
    kiosk.wait_screen("thanks")
    shot("11-thanks")
    flow.cancel()
    flow.touch()  # a tap on Welcome: the same card counts again

    for number, notice in enumerate(PATRON_NOTICES, start=12):
        reach_notice(flow, notice)
        kiosk.wait_screen("notice")
        shot(f"{number}-notice-{notice.value}")
        flow.cancel()
        flow.touch()  # a tap on Welcome: the same card counts again

    photograph_guest_screens(kiosk, shot)

    app.set_out_of_service(True)
    kiosk.wait_screen("out_of_service")
    shot("30-out-of-service")
    app.set_out_of_service(False)

    pin = kiosk.open_pin_pad()
    kiosk.enter_pin("1111")
    assert pin.message == kiosk.tr("pin.wrong", attempts=4)
    shot("31-pin")
    kiosk.enter_pin(SCREEN_PIN)
    maintenance = kiosk.wait_screen("maintenance")
    if frame is not None:
        maintenance.camera.show_frame(frame)
    kiosk.wait_for(lambda: maintenance.backend_text not in ("", "…"), what="backend status")
    shot("32-maintenance")
    kiosk.tap(kiosk.button(kiosk.tr("maintenance.close")))
    kiosk.wait_screen("welcome")
    return shots


def photograph_guest_screens(kiosk: Harness, shot: Callable[[str], None]) -> None:
    """The guest's two pages, a group's, sending, thanks."""
    app, flow = kiosk.app, kiosk.app.flow
    kiosk.wait_screen("welcome")
    kiosk.tap(app.screens["welcome"].ids.not_member)
    screen = kiosk.wait_screen("guest")
    shot("20-guest-empty")
    start_guest(flow)
    shot("21-guest-name")
    screen.go("answers")
    shot("22-guest-answers")
    flow.cancel()
    start_guest(flow, "bu rina", group=True)
    kiosk.wait_screen("guest")
    screen.go("answers")
    flow.guest_group_size(31)
    flow.guest_answer("purpose", "membaca")
    shot("23-group-answers")
    (sent,) = flow.guest_submit()
    kiosk.wait_screen("sending")
    shot("24-guest-sending")
    flow.guest_succeeded(sent.journey, None)
    kiosk.wait_screen("thanks")
    shot("25-guest-thanks")
    flow.cancel()
    start_guest(flow)
    for key, value in {**GUEST_ANSWERS, "gender": "laki_laki"}.items():
        flow.guest_answer(key, value)
    (sent,) = flow.guest_submit()
    flow.guest_succeeded(sent.journey, CREDENTIAL)
    kiosk.wait_screen("credentials")
    shot("26-guest-voucher")
    flow.cancel()
    flow.touch()


def contact_sheet(paths: list[Path], target: Path, columns: int = 6) -> Path:
    """One PNG with every screenshot as a captioned thumbnail."""
    thumbs = []
    for path in paths:
        image = cv2.imread(str(path))
        assert image is not None
        h, w = image.shape[:2]
        scale = 300 / max(h, w)
        small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        tile = np.full((340, 320, 3), 255, np.uint8)
        y0, x0 = (300 - small.shape[0]) // 2 + 4, (320 - small.shape[1]) // 2
        tile[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
        cv2.putText(tile, path.stem[:44], (6, 330), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (40, 40, 40), 1)
        thumbs.append(tile)
    while len(thumbs) % columns:
        thumbs.append(np.full((340, 320, 3), 255, np.uint8))
    rows = [np.hstack(thumbs[i : i + columns]) for i in range(0, len(thumbs), columns)]
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), np.vstack(rows))
    return target


# 29 screens x 2 languages take about 50 s a size on 2 shared cores: `make screenshots`
# (three sizes) needs more than the suite's 120 s.
@pytest.mark.timeout(900)
def test_screenshots_of_every_screen_in_both_languages(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    sizes = chosen_sizes(request.config)
    assert sizes, "no known size in --screens"
    shots: list[Path] = []
    for size in sizes:
        kiosk = start_kiosk(
            settings_for(
                backend_server,
                tmp_path / f"kiosk-{size}",
                maintenance={"pin_hash": SCREEN_PIN_HASH, "gesture_seconds": 0.5},
            ),
            size=SIZES[size],
        )
        for language in ("id", "en"):
            shots += photograph_every_screen(kiosk, SCREENS, size, language)
    sheet = contact_sheet(shots, SCREENS / "contact-sheet.png")
    assert sheet.stat().st_size > 10_000
    assert len(shots) == len(sizes) * 2 * (14 + len(PATRON_NOTICES) + GUEST_SHOTS)


def test_provisioning_refusing_shows_see_staff_and_records_the_visit(
    start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    router: dict[str, Any] = {
        "url": f"https://127.0.0.1:{free_port()}",
        "user": "kiosk",
        "password": "x",
        "timeout": 1.0,
    }
    with BackendServer(
        tmp_path / "b", provisioning={"kind": "mikrotik-rest", "mikrotik": router}
    ) as backend_server:
        kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
        kiosk.type_member("19000123")
        guestbook = kiosk.wait_screen("guestbook")
        for field, choice in LAST.items():
            kiosk.tap(kiosk.chip(field, choice))
        kiosk.tap(guestbook.ids.submit)
        kiosk.type_birth_date("17082004")
        kiosk.wait_screen("notice")
        assert kiosk.tr("notice.provisioning_unavailable.title") in kiosk.texts()
        outbox = kiosk.app.services.outbox
        kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="visit recorded")
        import sqlite3

        with sqlite3.connect(backend_server.database_path) as db:
            # Recorded as the patron wrote it (internet asked for), with no credential.
            assert db.execute("SELECT member_id, want_internet FROM visits").fetchall() == [
                ("19000123", 1)
            ]
            assert db.execute("SELECT count(*) FROM credentials").fetchone() == (0,)
