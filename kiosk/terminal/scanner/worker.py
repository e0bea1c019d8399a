"""The scanner's background threads: grab frames for the preview, decode the newest one,
and report each card (or rejected read) once per debounce window."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

from kiosk.cards import CardReader, NotAMemberCard
from kiosk.terminal.scanner.chain import DecoderChain
from kiosk.terminal.scanner.decoders import Symbol
from kiosk.terminal.scanner.evidence import Evidence
from kiosk.terminal.scanner.gate import IdleGate
from kiosk.terminal.scanner.sources import EndOfStream, FrameSource

log = logging.getLogger("kiosk.scanner.worker")

EventKind = Literal["card", "rejected", "camera_lost", "camera_back"]
CameraState = Literal["starting", "live", "lost", "ended", "stopped"]
# Linear symbols have at best a mod-10 check digit (Codabar and most Code 39/ITF cards have
# none): a misread could name another member. A read counts only once Evidence (evidence.py)
# says it is the card held in front of the camera; 2-D symbols count at once.


@dataclass(frozen=True)
class ScanEvent:
    kind: EventKind
    text: str  # raw decoded text ("" for camera events)
    member_id: str | None  # for kind == "card"
    format: str  # zxing-cpp BarcodeFormat name ("" for camera events)
    points: tuple[tuple[float, float], ...]  # corners in frame pixels (origin top-left)
    frame_size: tuple[int, int]  # (width, height)


@dataclass
class ScannerStats:
    """Live figures for the maintenance screen and the logs (written by the worker threads,
    read by anyone: plain values, a torn read is harmless)."""

    source_fps: float = 0.0
    decode_rate: float = 0.0  # decode attempts per second
    last_decode_ms: float = 0.0
    camera_state: CameraState = "starting"
    frames: int = 0
    decodes: int = 0
    cards: int = 0
    rejected: int = 0
    checksum_failures: int = 0
    implausible: int = 0
    idle_frames: int = 0  # frames the idle gate left undecoded

    def snapshot(self) -> ScannerStats:
        return replace(self)


def _rate(previous: float, interval: float) -> float:
    if interval <= 0:
        return previous
    current = 1.0 / interval
    return current if previous == 0 else 0.9 * previous + 0.1 * current


class ScannerWorker:
    """Owns a frame source and a decoder chain once started; callbacks run on the worker
    threads (the UI hands them to its main thread itself)."""

    def __init__(
        self,
        source: FrameSource,
        chain: DecoderChain,
        cards: CardReader,
        *,
        debounce_seconds: float,
        on_event: Callable[[ScanEvent], None],
        on_frame: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        gate: IdleGate | None = None,
    ) -> None:
        self.source = source
        self.chain = chain
        self.cards = cards
        self.debounce_seconds = debounce_seconds
        self.on_event = on_event
        self.on_frame = on_frame
        self.stats = ScannerStats()
        self.gate = gate  # None: decode every frame
        # Debounce time; tests pass a clock that follows the frames of a recorded video.
        self._clock = clock
        self._stop = threading.Event()
        self._paused = False
        self._new_frame = threading.Condition()
        self._frame: np.ndarray | None = None  # newest BGR frame, for the decoder
        self._rgb: np.ndarray | None = None  # the same, RGB, for the preview
        self._seq = 0
        self._frame_size = (0, 0)
        self._debounce_lock = threading.Lock()
        self._reported: dict[tuple[str, str], float] = {}  # (kind, id or text) -> when
        self._evidence = Evidence()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the scanner worker is already started")
        self._threads = [
            threading.Thread(target=self._grab_loop, name="scanner-grab", daemon=True),
            threading.Thread(target=self._decode_loop, name="scanner-decode", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop both threads and release the source, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self.source.interrupt()
        with self._new_frame:
            self._new_frame.notify_all()
        stuck = []
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stuck.append(thread.name)
        if stuck:
            # Releasing a capture under a blocked read crashes some drivers: leave it to
            # the daemon thread, which exits once its read returns.
            log.warning("scanner threads still busy after %.1f s: %s", timeout, ", ".join(stuck))
        else:
            self.source.close()
        self.stats.camera_state = "stopped"

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def latest_frame(self) -> tuple[np.ndarray, int] | None:
        """The newest frame as RGB uint8 HxWx3 and its sequence number (None before the
        first); the array is never written again, so the caller may keep it."""
        with self._new_frame:
            if self._rgb is None:
                return None
            return self._rgb, self._seq

    def pause_decoding(self, paused: bool) -> None:
        """Stop (or resume) decoding, e.g. while a patron fills in the guestbook; the
        preview keeps running."""
        self._paused = paused
        if not paused:
            with self._new_frame:
                self._new_frame.notify_all()

    def reset_debounce(self) -> None:
        """Forget what was reported, so the same card is reported again at once."""
        with self._debounce_lock:
            self._reported.clear()
            self._evidence.forget()

    # ------------------------------------------------------------------ threads

    def _grab_loop(self) -> None:
        last = 0.0
        state: CameraState = "starting"
        while not self._stop.is_set():
            try:
                frame = self.source.read()
            except EndOfStream:
                self.stats.camera_state = "ended"
                log.info("frame source ended: %s", self.source.description)
                return
            if self._stop.is_set():
                return
            if frame is None:
                if state != "lost":
                    state = self.stats.camera_state = "lost"
                    self._emit(ScanEvent("camera_lost", "", None, "", (), self._frame_size))
                continue
            if state == "lost":
                self._emit(ScanEvent("camera_back", "", None, "", (), self._frame_size))
            state = self.stats.camera_state = "live"
            now = time.monotonic()
            if last:
                self.stats.source_fps = _rate(self.stats.source_fps, now - last)
            last = now
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            with self._new_frame:
                self._frame, self._rgb = frame, rgb
                self._seq += 1
                self._frame_size = (frame.shape[1], frame.shape[0])
                self.stats.frames = self._seq
                self._new_frame.notify_all()
            if self.on_frame is not None:
                try:
                    self.on_frame()
                except Exception:
                    log.exception("on_frame callback failed")

    def _decode_loop(self) -> None:
        decoded_seq = 0
        last = 0.0
        while not self._stop.is_set():
            with self._new_frame:
                while not self._stop.is_set() and (self._paused or self._seq == decoded_seq):
                    self._new_frame.wait(0.5)
                if self._stop.is_set():
                    return
                frame, decoded_seq, size = self._frame, self._seq, self._frame_size
            if frame is None:
                continue
            if self.gate is not None and not self.gate.wants(frame, self._clock()):
                self.stats.idle_frames += 1
                continue
            try:
                result = self.chain.decode(frame, spread=True)
            except Exception:
                log.exception("decoding a frame failed")
                continue
            now = time.monotonic()
            if last:
                self.stats.decode_rate = _rate(self.stats.decode_rate, now - last)
            last = now
            self.stats.decodes += 1
            self.stats.last_decode_ms = result.ms
            self.stats.checksum_failures += result.checksum_failures
            self.stats.implausible += result.implausible
            if not self._paused:
                for symbol in result.symbols:
                    self._consider(symbol, size, self._clock())

    def _consider(self, symbol: Symbol, size: tuple[int, int], now: float) -> None:
        text = symbol.text
        try:
            member_id: str | None = self.cards.member_id(text)
            kind: EventKind = "card"
            key = ("card", member_id or "")
        except NotAMemberCard:
            member_id, kind, key = None, "rejected", ("rejected", text)
        with self._debounce_lock:
            if not self._evidence.confirms(symbol, now, size):
                return
            reported_at = self._reported.get(key)
            if reported_at is not None and now - reported_at < self.debounce_seconds:
                return
            self._reported[key] = now
        if kind == "card":
            self.stats.cards += 1
            log.info("card read: member %s (%s)", member_id, symbol.format)
        else:
            self.stats.rejected += 1
            log.info("rejected read (%s, %d characters)", symbol.format, len(text))
        self._emit(ScanEvent(kind, text, member_id, symbol.format, symbol.points, size))

    def _emit(self, event: ScanEvent) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("on_event callback failed for %s", event.kind)
