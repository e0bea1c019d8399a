"""The credential screen's two QRs (join the Wi-Fi, log in), read back from the window's pixels
by a real decoder, in both orientations and both languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for
from .test_journey import answer_new_member, credential_in_database

pytestmark = pytest.mark.ui

LOGIN_QR = "http://{login_host}/login?username={username}&password={password}"


def decoded_qrs(png: Path) -> set[str]:
    import cv2
    import zxingcpp

    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image is not None, png
    return {found.text for found in zxingcpp.read_barcodes(image) if found.format.name == "QRCode"}


def check_in(kiosk: Harness) -> None:
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    answer_new_member(kiosk)
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    kiosk.wait_screen("credentials")


@pytest.mark.parametrize("size", ["portrait", "landscape"])
def test_both_qrs_decode_to_the_wifi_and_the_login_url_with_the_issued_credential(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
) -> None:
    library = {
        "wifi_ssid": "Perpustakaan-Babel",
        "login_url": "http://login.perpustakaan.lan",
        "qr_template": "WIFI:T:nopass;S:{ssid};;",
        "login_qr_template": LOGIN_QR,
    }
    settings = settings_for(backend_server, tmp_path / "kiosk", library=library)
    kiosk = start_kiosk(settings, size=SIZES[size])
    for language in ("id", "en"):
        kiosk.wait_screen("welcome")
        if language == "en":
            kiosk.tap(kiosk.button("English"))
        check_in(kiosk)
        username, password = credential_in_database(backend_server, "19000123")
        login = (
            f"http://login.perpustakaan.lan/login?username={quote(username, safe='')}"
            f"&password={quote(password, safe='')}"
        )
        shot = kiosk.screenshot(ARTIFACTS / "login-qr" / f"{size}-{language}-credentials.png")
        assert decoded_qrs(shot) == {"WIFI:T:nopass;S:Perpustakaan-Babel;;", login}
        texts = kiosk.texts()
        assert kiosk.tr("credentials.qr_wifi") in texts
        assert kiosk.tr("credentials.qr_login") in texts
        kiosk.tap(kiosk.button(kiosk.tr("common.done")))


def test_without_a_login_template_the_screen_shows_the_wifi_qr_alone(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    check_in(kiosk)
    shot = kiosk.screenshot(ARTIFACTS / "login-qr" / "small-id-credentials-one-qr.png")
    wifi = kiosk.app.settings.library.wifi_qr("", "")
    assert decoded_qrs(shot) == {wifi}
    assert kiosk.tr("credentials.qr_login") not in kiosk.texts()
