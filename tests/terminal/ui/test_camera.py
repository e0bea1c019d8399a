"""The camera as the patron meets it: a generated video of a member card is the camera."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from support.backend_server import BackendServer

from kiosk.demo.footage import Sequence, video_codec, write_card_video
from kiosk.demo.membercard import MemberCard

from .conftest import Harness, settings_for

pytestmark = pytest.mark.ui
SHORT = Sequence(empty_before=6, entering=3, held=24, leaving=3, empty_after=30)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    suffix = video_codec()[1]
    return {
        "member": write_card_video(folder / f"member{suffix}", [MemberCard()], SHORT),
        "isbn": write_card_video(
            folder / f"isbn{suffix}",
            [MemberCard(symbology="EAN13", payload="9780306406157", name="Buku Perpustakaan")],
            SHORT,
        ),
        "enormous": write_card_video(
            folder / f"enormous{suffix}",
            [MemberCard(symbology="QRCode", payload="Z" * 300 + "19000123" * 40)],
            SHORT,
        ),
        "empty": write_card_video(
            folder / f"empty{suffix}",
            [MemberCard()],
            Sequence(empty_before=30, entering=0, held=0, leaving=0, empty_after=0),
        ),
    }


def test_card_in_view_greets_the_member_and_shows_the_issued_credential(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    videos: dict[str, Path],
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "k"), camera=str(videos["member"]))
    welcome = kiosk.app.screens["welcome"]
    # On a loaded machine the card (in view after 0.4 s of video) may be read before the
    # preview has shown four frames: the preview must have shown some, then the greeting.
    kiosk.wait_for(
        lambda: welcome.camera.frames_shown > 3 or kiosk.app.manager.current != "welcome",
        what="the live preview",
    )
    assert welcome.camera.frames_shown > 0
    guestbook = kiosk.wait_screen("guestbook", timeout=20)
    assert "Siti Aminah" in kiosk.texts()
    for field, choice in (("purpose", "internet"), ("occupation", "pelajar"), ("education", "sma")):
        kiosk.tap(kiosk.chip(field, choice))
    kiosk.tap(guestbook.ids.submit)
    credentials = kiosk.wait_screen("credentials")
    with sqlite3.connect(backend_server.database_path) as db:
        issued = db.execute("SELECT username, password FROM credentials").fetchall()
    shown = ("".join(credentials.username_groups), "".join(credentials.password_groups))
    assert issued == [shown]


def test_a_books_barcode_is_not_a_member_card(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    videos: dict[str, Path],
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "k"), camera=str(videos["isbn"]))
    kiosk.wait_screen("notice", timeout=20)
    assert kiosk.tr("notice.card_not_recognised.title") in kiosk.texts()


def test_an_enormous_code_is_refused_plainly_and_nothing_is_looked_up(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    videos: dict[str, Path],
) -> None:
    kiosk = start_kiosk(
        settings_for(backend_server, tmp_path / "k"), camera=str(videos["enormous"])
    )
    kiosk.wait_screen("notice", timeout=20)
    assert kiosk.tr("notice.card_not_recognised.title") in kiosk.texts()
    assert "ZZZZ" not in kiosk.texts()  # the raw text is never put on screen


def test_camera_unplugged_says_so_keeps_the_keypad_and_recovers(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    videos: dict[str, Path],
) -> None:
    camera = tmp_path / f"camera{videos['empty'].suffix}"
    shutil.copy(videos["empty"], camera)
    settings = settings_for(
        backend_server, tmp_path / "k", kiosk={"scanner": {"loop_video": False}}
    )
    kiosk = start_kiosk(settings, camera=str(camera))
    welcome = kiosk.app.screens["welcome"]
    kiosk.wait_for(lambda: welcome.camera.frames_shown > 0, what="the live preview")
    camera.unlink()  # the video ends and cannot be reopened: the camera is gone
    kiosk.wait_for(lambda: not kiosk.app.flow.view.camera_ok, timeout=20, what="camera lost")
    kiosk.pump(0.2)
    assert kiosk.tr("welcome.camera_lost") in kiosk.texts()
    kiosk.type_member("19000123")  # the keypad still works
    kiosk.wait_screen("guestbook")
    kiosk.tap(kiosk.button(kiosk.tr("common.cancel")))
    kiosk.wait_screen("welcome")
    shutil.copy(videos["empty"], camera)  # plugged back in
    kiosk.wait_for(lambda: kiosk.app.flow.view.camera_ok, timeout=20, what="camera back")
    kiosk.pump(0.2)
    assert kiosk.tr("welcome.camera_lost") not in kiosk.texts()


def test_a_kiosk_without_a_camera_says_so_and_never_plays_the_demo_card(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    if any(Path("/dev").glob("video*")):
        pytest.skip("this machine has a camera: auto would pick it")
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "k"), camera="auto")
    kiosk.wait_for(lambda: not kiosk.app.flow.view.camera_ok, timeout=10, what="camera lost")
    # No waiting for a card that must not come: the source itself is a camera waiting to be
    # plugged in, not the demo video, and no frame has reached the preview.
    from kiosk.terminal.scanner.sources import CameraSource, VideoFileSource

    source = kiosk.app.services.scanner.source
    assert isinstance(source, CameraSource) and not isinstance(source, VideoFileSource)
    assert kiosk.app.screens["welcome"].camera.frames_shown == 0
    assert kiosk.app.manager.current == "welcome"
    assert kiosk.tr("welcome.camera_lost") in kiosk.texts()
