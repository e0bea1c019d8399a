"""Frame sources: camera specs, looping video, a video file that goes and comes back,
image folders, backoff without a busy loop and without leaked file handles."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from terminal.scanner.fakes import ListSource

from kiosk.demo import footage
from kiosk.terminal.scanner.sources import (
    Backoff,
    CameraSource,
    EndOfStream,
    ImageFolderSource,
    SourceUnavailable,
    VideoFileSource,
    open_source,
)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six frames at 60 fps, each a different shade so that frames can be told apart."""
    frames = [np.full((72, 128, 3), 30 * i, np.uint8) for i in range(6)]
    folder = tmp_path_factory.mktemp("short")
    return footage.write_video(folder / f"six{footage.video_codec()[1]}", frames, fps=60)


def test_video_written_by_footage_reads_back_frame_for_frame(short_video: Path) -> None:
    capture = cv2.VideoCapture(str(short_video))
    shades = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        shades.append(round(float(frame.mean()) / 30))
    capture.release()
    assert shades == [0, 1, 2, 3, 4, 5]


def test_looping_video_starts_over_and_a_non_looping_one_ends(short_video: Path) -> None:
    with VideoFileSource(short_video, loop=True) as source:
        frames = [source.read() for _ in range(14)]
    assert all(f is not None and f.shape == (72, 128, 3) for f in frames)
    with VideoFileSource(short_video, loop=False) as source:
        for _ in range(6):
            assert source.read() is not None
        with pytest.raises(EndOfStream):
            source.read()


def test_video_played_at_its_own_frame_rate(short_video: Path) -> None:
    with VideoFileSource(short_video, loop=True) as source:
        source.read()
        started = time.monotonic()
        for _ in range(12):
            source.read()
        elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 1.0  # 12 frames at 60 fps = 0.2 s


def test_video_file_removed_is_lost_and_found_again_when_restored(
    short_video: Path, tmp_path: Path
) -> None:
    path = tmp_path / short_video.name
    shutil.copy(short_video, path)
    fds_before = _open_fds()
    source = VideoFileSource(path, loop=True, backoff=Backoff(0.01, 0.02))
    for _ in range(6):
        assert source.read() is not None
    hidden = path.rename(tmp_path / "away.bin")
    assert source.read() is None  # the next loop finds no file
    assert not source.connected
    assert source.read() is None  # still away: waits out the backoff, tries again
    hidden.rename(path)
    frame = None
    for _ in range(5):
        frame = source.read()
        if frame is not None:
            break
    assert frame is not None and source.connected
    source.close()
    assert _open_fds() <= fds_before


def test_source_that_cannot_open_retries_with_growing_backoff_not_a_busy_loop() -> None:
    source = ListSource([np.zeros((4, 4, 3), np.uint8)], broken=lambda i: True,
                        backoff=Backoff(0.05, 0.2))  # fmt: skip
    started = time.monotonic()
    while time.monotonic() - started < 0.6:
        assert source.read() is None
    # 0.05 + 0.1 + 0.2 + 0.2 ... : at most 5 attempts in 0.6 s
    assert 3 <= source.failures <= 6


def test_backoff_doubles_up_to_its_ceiling_and_resets() -> None:
    backoff = Backoff(0.25, 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.25


def test_close_interrupts_a_read_waiting_out_its_backoff() -> None:
    source = ListSource([np.zeros((4, 4, 3), np.uint8)], broken=lambda i: True,
                        backoff=Backoff(30.0, 30.0))  # fmt: skip
    assert source.read() is None  # lost; next attempt in 30 s
    source.interrupt()
    started = time.monotonic()
    assert source.read() is None
    assert time.monotonic() - started < 0.5


def test_image_folder_shows_each_image_for_a_while_letterboxed(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.full((100, 200, 3), 200, np.uint8))
    cv2.imwrite(str(tmp_path / "b.jpg"), np.full((2000, 1000, 3), 90, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with ImageFolderSource(
        tmp_path, 320, 240, loop=False, fps=100, seconds_per_image=0.02
    ) as source:
        frames = [source.read(), source.read(), source.read(), source.read()]
        with pytest.raises(EndOfStream):
            source.read()
    assert all(f is not None and f.shape == (240, 320, 3) for f in frames)
    first, third = frames[0], frames[2]
    assert first is not None and third is not None
    assert first[120, 160, 0] == 200 and first[0, 0, 0] == 0  # centred, black around
    assert third[120, 160, 0] == 90 and third[120, 5, 0] == 0  # shrunk to fit the height


def test_empty_or_missing_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="no images"):
        ImageFolderSource(tmp_path, 320, 240).open()
    with pytest.raises(SourceUnavailable, match="no such folder"):
        ImageFolderSource(tmp_path / "gone", 320, 240).open()


def test_camera_that_is_not_there_is_unavailable_and_reads_as_lost() -> None:
    camera = CameraSource("/dev/video-not-here", 1280, 720, backoff=Backoff(0.01, 0.01))
    with pytest.raises(SourceUnavailable):
        camera.open()
    assert camera.read() is None and not camera.connected
    camera.close()


def test_open_source_understands_every_kind_of_camera_setting(
    short_video: Path, tmp_path: Path
) -> None:
    assert isinstance(open_source("0", 1280, 720, True), CameraSource)
    camera = open_source("/dev/video2", 1280, 720, True)
    assert isinstance(camera, CameraSource) and camera.device == "/dev/video2"
    video = open_source(str(short_video), 1280, 720, False)
    assert isinstance(video, VideoFileSource) and not video.loop
    assert isinstance(open_source(str(tmp_path), 1280, 720, True), ImageFolderSource)
    # A video that is not there (yet) is a source that will reconnect when it appears.
    assert isinstance(open_source(str(tmp_path / "later.mp4"), 1280, 720, True), VideoFileSource)
    with pytest.raises(SourceUnavailable, match="not a camera index"):
        open_source("webcam please", 1280, 720, True)


def test_auto_without_a_camera_plays_the_demo_video_in_the_demo(repo_root: Path) -> None:
    if any(Path("/dev").glob("video*")):
        pytest.skip("this machine has a camera: auto would pick it")
    source = open_source("auto", 1280, 720, True, demo_fallback=True)
    assert isinstance(source, VideoFileSource) and source.loop
    with source:
        frame = source.read()
    assert frame is not None and frame.shape == (720, 1280, 3)


def test_auto_without_a_camera_on_a_real_kiosk_waits_for_one() -> None:
    if any(Path("/dev").glob("video*")):
        pytest.skip("this machine has a camera: auto would pick it")
    source = open_source("auto", 1280, 720, True)
    assert isinstance(source, CameraSource) and source.rescan
    with source:
        assert source.read() is None  # no frame, no demo card: the camera is reported lost


def test_auto_camera_replugged_under_another_name_is_looked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kiosk.terminal.scanner import sources

    monkeypatch.setattr(sources, "first_camera", lambda: "/dev/video-replugged")
    camera = CameraSource("/dev/video-unplugged", 1280, 720, rescan=True)
    with pytest.raises(SourceUnavailable):  # (no real device behind either name here)
        camera.open()
    assert camera.device == "/dev/video-replugged"
    fixed = CameraSource("/dev/video-unplugged", 1280, 720)
    with pytest.raises(SourceUnavailable):
        fixed.open()
    assert fixed.device == "/dev/video-unplugged"  # a configured device stays as named
