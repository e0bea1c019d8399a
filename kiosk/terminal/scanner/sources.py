"""Frame sources behind one interface: a camera (index or device path), a video file
(optionally looping) or a folder of images; a lost source reconnects with backoff."""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("kiosk.scanner.sources")

REPO_ASSETS = Path(__file__).resolve().parents[3] / "assets" / "demo"
DEMO_VIDEO_NAMES = ("demo-card.mp4", "demo-card.avi")
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mjpeg", ".mjpg"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


class SourceUnavailable(Exception):
    """The camera, file or folder cannot be opened (now)."""


class EndOfStream(Exception):
    """A video or folder that does not loop has shown its last frame."""


class Backoff:
    """Delays between reconnection attempts: doubling from `first` up to `longest`."""

    def __init__(self, first: float = 0.25, longest: float = 5.0) -> None:
        self.first, self.longest = first, longest
        self._next = first

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self.longest, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first


class FrameSource:
    """BGR uint8 frames, one per `read()`, at the source's own pace.

    `read()` returns a frame, or None when the source is down: it then waits out the next
    backoff delay (interruptible by `close()`) and tries to reopen on the following call.
    `connected` tells which; no thread is started here, and `close()` releases the device.
    """

    description = "source"

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.connected = False
        self.failures = 0
        self._closed = threading.Event()
        self._retry_at = 0.0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def open(self) -> None:
        """Open the device now; SourceUnavailable if it cannot be."""
        if self.closed:
            raise SourceUnavailable(f"{self.description}: closed")
        self._open()
        self.connected = True

    def read(self) -> np.ndarray | None:
        if self.closed:
            return None
        if not self.connected:
            wait = self._retry_at - time.monotonic()
            if wait > 0 and self._closed.wait(wait):
                return None
            try:
                self.open()
            except SourceUnavailable as exc:
                self._lost(str(exc))
                return None
            log.info("frame source back: %s", self.description)
        try:
            frame = self._grab()
        except EndOfStream:
            raise
        except Exception as exc:  # a driver error is a lost camera, not a crash
            log.warning("frame source error: %s: %s", self.description, exc)
            frame = None
        if frame is None:
            self._release()
            self.connected = False
            if not self.closed:  # a pacing wait cut short by close() is no loss
                self._lost("no frame")
            return None
        self.backoff.reset()
        return frame

    def _lost(self, reason: str) -> None:
        self.failures += 1
        delay = self.backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        log.info("frame source lost: %s (%s); retry in %.2f s", self.description, reason, delay)

    def interrupt(self) -> None:
        """Wake a read() waiting on backoff or pacing and make further reads return None;
        safe from another thread (the device is released by close())."""
        self._closed.set()

    def close(self) -> None:
        """Release the device; call it once no thread is inside read()."""
        self._closed.set()
        self._release()
        self.connected = False

    def pause(self, seconds: float) -> bool:
        """Sleep `seconds` unless closed meanwhile; True if closed."""
        return self._closed.wait(seconds) if seconds > 0 else self.closed

    # Subclasses implement these three.
    def _open(self) -> None:
        raise NotImplementedError

    def _grab(self) -> np.ndarray | None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CameraSource(FrameSource):
    """A V4L2 camera asked for width x height in Motion-JPEG (USB 2 webcams deliver 720p at
    full frame rate only compressed); it paces itself."""

    def __init__(
        self,
        device: int | str,
        width: int,
        height: int,
        backoff: Backoff | None = None,
        *,
        rescan: bool = False,
    ) -> None:
        super().__init__(backoff)
        self.device, self.width, self.height = device, width, height
        # With "auto", a camera plugged back in may come back under another /dev/video*
        # name: look for whichever opens.
        self.rescan = rescan
        self.description = f"camera {device}"
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()
        # Every reconnect attempt would print OpenCV's V4L2 warnings on stderr; the
        # losses and returns are logged here, once each.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

    def _open(self) -> None:
        if self.rescan and (isinstance(self.device, str) and not os.path.exists(self.device)):
            found = first_camera()
            if found is not None and found != self.device:
                log.info("camera %s is gone; %s found instead", self.device, found)
                self.device, self.description = found, f"camera {found}"
        if isinstance(self.device, str) and not os.path.exists(self.device):
            raise SourceUnavailable(f"{self.device}: no such device")
        capture = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(f"{self.description}: cannot open")
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        # One buffered frame: the worker wants the newest, never a queue of old ones.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        # An unplugged camera must not block a read for OpenCV's default 10 s.
        capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000)
        with self._lock:
            self._capture = capture
        log.info(
            "camera %s opened at %dx%d",
            self.device,
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )

    def _grab(self) -> np.ndarray | None:
        capture = self._capture
        if capture is None:
            return None
        ok, frame = capture.read()
        return frame if ok else None

    def _release(self) -> None:
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class VideoFileSource(FrameSource):
    """A video file played at its own frame rate, looping if asked; a file that disappears
    is a lost source until it is back."""

    def __init__(self, path: Path | str, loop: bool = True, backoff: Backoff | None = None) -> None:
        super().__init__(backoff)
        self.path, self.loop = Path(path), loop
        self.description = f"video {self.path}"
        self._capture: cv2.VideoCapture | None = None
        self._interval = 1 / 15
        self._next_at = 0.0
        self._lock = threading.Lock()

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(f"{self.path}: no such video file")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(f"{self.path}: not a video OpenCV can read")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._interval = 1 / fps if 1 <= fps <= 120 else 1 / 15
        with self._lock:
            self._capture = capture
        self._next_at = time.monotonic()

    def _grab(self) -> np.ndarray | None:
        capture = self._capture
        if capture is None:
            return None
        ok, frame = capture.read()
        if not ok:
            if not self.path.is_file():
                return None
            if not self.loop:
                raise EndOfStream(str(self.path))
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = capture.read()
            if not ok:
                return None
        # Play in real time, as a camera would deliver.
        self._next_at += self._interval
        delay = self._next_at - time.monotonic()
        if delay < -1.0:
            self._next_at = time.monotonic()
        elif self.pause(delay):
            return None
        return np.asarray(frame)

    def _release(self) -> None:
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class ImageFolderSource(FrameSource):
    """The images of a folder in name order, as a camera pointed at each one in turn for
    `seconds_per_image` at `fps`, letterboxed into width x height (never enlarged) so that
    the preview keeps one size."""

    def __init__(
        self,
        folder: Path | str,
        width: int,
        height: int,
        loop: bool = True,
        *,
        fps: float = 10.0,
        seconds_per_image: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(backoff)
        self.folder, self.width, self.height, self.loop = Path(folder), width, height, loop
        self.description = f"folder {self.folder}"
        self._interval = 1 / fps
        self._frames_per_image = max(1, round(seconds_per_image * fps))
        self._files: list[Path] = []
        self._tick = 0
        self._current: np.ndarray | None = None
        self._next_at = 0.0

    def _open(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailable(f"{self.folder}: no such folder")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceUnavailable(f"{self.folder}: no images")
        self._next_at = time.monotonic()

    def _grab(self) -> np.ndarray | None:
        index, shown = divmod(self._tick, self._frames_per_image)
        if index >= len(self._files):
            if not self.loop:
                raise EndOfStream(str(self.folder))
            self._tick, index, shown = 0, 0, 0
        if shown == 0 or self._current is None:
            path = self._files[index]
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("cannot read image %s", path)
                image = np.zeros((self.height, self.width, 3), np.uint8)
            self._current = letterbox(image, self.width, self.height)
        self._tick += 1
        self._next_at += self._interval
        if self.pause(self._next_at - time.monotonic()):
            return None
        return self._current.copy()

    def _release(self) -> None:
        self._files = []
        self._current = None


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` centred on a black width x height canvas, shrunk to fit if larger."""
    h, w = image.shape[:2]
    scale = min(1.0, width / w, height / h)
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        h, w = image.shape[:2]
    canvas = np.zeros((height, width, 3), np.uint8)
    y, x = (height - h) // 2, (width - w) // 2
    canvas[y : y + h, x : x + w] = image
    return canvas


def demo_video() -> Path | None:
    for name in DEMO_VIDEO_NAMES:
        path = REPO_ASSETS / name
        if path.is_file():
            return path
    return None


def first_camera() -> str | None:
    """The first /dev/video* that opens and delivers a frame (many are metadata nodes)."""
    for device in sorted(glob.glob("/dev/video*"), key=lambda d: (len(d), d)):
        capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        try:
            if capture.isOpened() and capture.read()[0]:
                return device
        finally:
            capture.release()
    return None


def open_source(
    spec: str, width: int, height: int, loop: bool, *, demo_fallback: bool = False
) -> FrameSource:
    """The source named by `[kiosk.scanner] camera`: "auto" (the first camera that opens),
    a camera index, a device path, a video file or an image folder. Nothing is opened yet;
    the first read() does (and reconnects later).

    With "auto" and no camera, a kiosk waits for one to be plugged in (reporting the camera
    lost meanwhile); only the demo (`demo_fallback`) plays the demo card video instead."""
    spec = spec.strip()
    if spec == "auto":
        device = first_camera()
        if device is not None:
            return CameraSource(device, width, height, rescan=True)
        if not demo_fallback:
            log.info("no camera found: waiting for one on /dev/video*")
            return CameraSource("/dev/video0", width, height, rescan=True)
        video = demo_video()
        if video is None:
            raise SourceUnavailable(
                "no camera found and no demo video in assets/demo (make demo-video)"
            )
        log.info("no camera found: playing the demo video %s", video)
        return VideoFileSource(video, loop=True)
    if spec.isdigit():
        return CameraSource(int(spec), width, height)
    if spec.startswith("/dev/"):
        return CameraSource(spec, width, height)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, width, height, loop=loop)
    if path.is_file() or path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path, loop=loop)
    raise SourceUnavailable(f"{spec!r}: not a camera index, device, video file or image folder")
