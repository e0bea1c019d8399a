"""Staff maintenance mode in the real app: the hidden gesture, the PIN pad, out-of-service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.backend_server import BackendServer

from kiosk.terminal.pin import hash_pin

from .conftest import Harness, settings_for

pytestmark = pytest.mark.ui
PIN = "2468"
PIN_HASH = hash_pin(PIN, n=1024)  # cheap to check in tests; the format is the same
QUICK = {"gesture_seconds": 0.5}  # the hold that opens the PIN pad, shortened


def test_short_press_on_the_logo_opens_nothing(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(backend_server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH})
    kiosk = start_kiosk(settings)
    kiosk.hold_logo(1.0)
    assert kiosk.app.manager.current == "welcome"


def test_gesture_and_pin_open_maintenance_and_wrong_pin_is_refused(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(backend_server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH})
    kiosk = start_kiosk(settings)
    kiosk.hold_logo(settings.maintenance.gesture_seconds + 0.3)
    pin = kiosk.wait_screen("pin")
    kiosk.enter_pin("1111")
    assert kiosk.app.manager.current == "pin"
    assert pin.message == kiosk.tr("pin.wrong", attempts=4)
    assert pin.entered == ""
    kiosk.enter_pin(PIN)
    maintenance = kiosk.wait_screen("maintenance")
    kiosk.wait_for(lambda: "ms" in maintenance.backend_text, what="backend latency shown")
    assert "0" in maintenance.queue_text


def test_five_wrong_pins_lock_the_pad_across_a_restart(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH, **QUICK}
    )
    kiosk = start_kiosk(settings)
    kiosk.open_pin_pad()
    pin = kiosk.wait_screen("pin")
    for _ in range(5):
        kiosk.enter_pin("9999")
    assert "Terlalu banyak" in pin.message
    kiosk.enter_pin(PIN)  # the right PIN is not even checked while locked
    assert kiosk.app.manager.current == "pin"

    again = start_kiosk(settings)  # the kiosk restarted with the same data directory
    again.open_pin_pad()
    again_pin = again.wait_screen("pin")
    assert "Terlalu banyak" in again_pin.message


def test_out_of_service_is_shown_to_patrons_and_survives_a_restart(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH, **QUICK}
    )
    kiosk = start_kiosk(settings)
    kiosk.open_pin_pad()
    kiosk.wait_screen("pin")
    kiosk.enter_pin(PIN)
    kiosk.wait_screen("maintenance")
    kiosk.tap(kiosk.button(kiosk.tr("maintenance.out_of_service")))
    kiosk.tap(kiosk.button(kiosk.tr("maintenance.close")))
    kiosk.wait_screen("out_of_service")
    assert kiosk.tr("out_of_service.title") in kiosk.texts()

    again = start_kiosk(settings)
    again.wait_screen("out_of_service")
    again.open_pin_pad()
    again.wait_screen("pin")
    again.enter_pin(PIN)
    again.wait_screen("maintenance")
    again.tap(again.button(again.tr("maintenance.in_service")))
    again.tap(again.button(again.tr("maintenance.close")))
    again.wait_screen("welcome")


def test_maintenance_closes_itself_without_a_touch(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server,
        tmp_path / "k",
        maintenance={"pin_hash": PIN_HASH, "close_after_seconds": 1.0, **QUICK},
    )
    kiosk = start_kiosk(settings)
    kiosk.open_pin_pad()
    kiosk.wait_screen("pin")
    kiosk.enter_pin(PIN)
    kiosk.wait_screen("maintenance")
    kiosk.wait_screen("welcome", timeout=5)


def test_no_pin_set_says_how_to_set_one(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(
        settings_for(backend_server, tmp_path / "k", maintenance={"pin_hash": "", **QUICK})
    )
    kiosk.open_pin_pad()
    pin = kiosk.wait_screen("pin")
    assert "kiosk set-pin" in pin.message


def test_maintenance_shows_that_the_backend_paused_this_kiosks_lookups(
    start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    """Someone typed member numbers that do not exist until the backend paused this kiosk's
    token: staff see why patrons' cards get no answer, in both languages."""
    from .conftest import ARTIFACTS

    with BackendServer(tmp_path / "b", backend={"unknown_members_per_10_minutes": 3}) as server:
        settings = settings_for(server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH, **QUICK})
        kiosk = start_kiosk(settings)
        for n in range(3):  # as the keypad would send them
            assert server.post("members/lookup", json={"card": f"1999{n:04d}"}).status_code == 404
        for language in ("id", "en"):
            if kiosk.app.language != language:
                kiosk.tap(kiosk.button(kiosk.tr("language.switch")))
            kiosk.open_pin_pad()
            kiosk.enter_pin(PIN)
            maintenance = kiosk.wait_screen("maintenance")
            paused = kiosk.tr("maintenance.lookups_paused", minutes=10).split("{")[0][:20]
            kiosk.wait_for(lambda m=maintenance, p=paused: p in m.backend_text, what="pause")
            kiosk.screenshot(ARTIFACTS / "screens" / f"maintenance-lookups-paused-{language}.png")
            kiosk.tap(kiosk.button(kiosk.tr("maintenance.close")))
            kiosk.wait_screen("welcome")


def test_maintenance_shows_a_damaged_outbox_that_was_set_aside(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    """The kiosk started although its outbox file was damaged (moved aside, a fresh one
    begun): staff see that its visits were not sent, in both languages."""
    from .conftest import ARTIFACTS

    data = tmp_path / "k"
    data.mkdir()
    (data / "outbox.sqlite3").write_bytes(b"this is not a database" * 100)
    settings = settings_for(backend_server, data, maintenance={"pin_hash": PIN_HASH, **QUICK})
    kiosk = start_kiosk(settings)
    for language in ("id", "en"):
        if kiosk.app.language != language:
            kiosk.tap(kiosk.button(kiosk.tr("language.switch")))
        kiosk.open_pin_pad()
        kiosk.enter_pin(PIN)
        maintenance = kiosk.wait_screen("maintenance")
        said = kiosk.tr("maintenance.outbox_set_aside", names="").split(":")[0]
        kiosk.wait_for(lambda m=maintenance, s=said: s in m.queue_text, what="set-aside line")
        assert "outbox.corrupt-" in maintenance.queue_text
        kiosk.screenshot(ARTIFACTS / "screens" / f"maintenance-outbox-set-aside-{language}.png")
        kiosk.tap(kiosk.button(kiosk.tr("maintenance.close")))
        kiosk.wait_screen("welcome")


def test_staff_switch_on_high_contrast_and_it_survives_a_restart(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    import cv2

    from kiosk.terminal.ui import theme

    settings = settings_for(
        backend_server, tmp_path / "k", maintenance={"pin_hash": PIN_HASH, **QUICK}
    )
    kiosk = start_kiosk(settings)
    kiosk.open_pin_pad()
    kiosk.enter_pin(PIN)
    kiosk.wait_screen("maintenance")
    kiosk.tap(kiosk.button(kiosk.tr("maintenance.high_contrast_off")))
    assert kiosk.button(kiosk.tr("maintenance.high_contrast_on"))  # says its state in words
    kiosk.tap(kiosk.button(kiosk.tr("maintenance.close")))
    kiosk.wait_screen("welcome")
    # The patron's screen as drawn: white paper, and the top bar in the dark blue.
    path = kiosk.screenshot(tmp_path / "welcome-hc.png")
    image = cv2.imread(str(path))
    b, g, r = (int(v) for v in image[image.shape[0] - 5, image.shape[1] // 2])
    assert (r, g, b) == (255, 255, 255)
    b, g, r = (int(v) for v in image[3, image.shape[1] // 2])
    assert f"#{r:02X}{g:02X}{b:02X}" == theme.HIGH_CONTRAST["PRIMARY"]

    again = start_kiosk(settings)
    again.wait_screen("welcome")
    assert again.app.high_contrast and again.app.palette == theme.HIGH_CONTRAST
