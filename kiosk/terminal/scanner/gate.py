"""The idle gate: decode a frame only when something is in front of the camera (a change from
the last frame, or from the learned empty scene), else once every idle_decode_seconds."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.config import ScannerSettings

GATE_SIZE = (80, 45)  # the frame downscaled to this (16x16 pixel blocks of a 720p frame)
PIXEL_CHANGE = 14.0  # grey levels a block must differ by to count as changed
CHANGED_SHARE = 0.012  # of blocks: a card at arm's length covers well over 10%
IDLE_ADAPT = 0.1  # how fast the empty scene follows slow light changes (per frame)
# While something is present the scene is learned slowly (about half a minute at 15 fps),
# so a moved chair stops counting as a patron instead of keeping the decoder busy for good.
PRESENT_ADAPT = 1 / 450


@dataclass
class GateStats:
    frames: int = 0
    decoded: int = 0


class IdleGate:
    """Decides for each frame whether the decoder chain runs. Costs about a millisecond per
    720p frame (one area resize); a card entering the frame is a change at once, a card
    held still stays different from the empty scene, and a card already in view when the
    kiosk starts is still read by the periodic decode."""

    def __init__(self, idle_decode_seconds: float = 1.0) -> None:
        self.idle_decode_seconds = idle_decode_seconds
        self.stats = GateStats()
        self._scene: np.ndarray | None = None  # the learned empty scene, float32
        self._previous: np.ndarray | None = None
        self._last_decode = float("-inf")

    def wants(self, frame: np.ndarray, now: float) -> bool:
        """True when `frame` (BGR or grey) should be decoded at time `now` (seconds)."""
        small = cv2.resize(frame, GATE_SIZE, interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        current = small.astype(np.float32)
        self.stats.frames += 1
        if self._scene is None or self._previous is None:
            self._scene, self._previous = current, current
            return self._decode(now)
        moved = _changed(current, self._previous)
        present = _changed(current, self._scene)
        self._previous = current
        rate = PRESENT_ADAPT if present else IDLE_ADAPT
        cv2.accumulateWeighted(current, self._scene, rate)
        if moved or present or now - self._last_decode >= self.idle_decode_seconds:
            return self._decode(now)
        return False

    def _decode(self, now: float) -> bool:
        self._last_decode = now
        self.stats.decoded += 1
        return True


def _changed(a: np.ndarray, b: np.ndarray) -> bool:
    return float(np.count_nonzero(cv2.absdiff(a, b) > PIXEL_CHANGE)) > CHANGED_SHARE * a.size


def build_gate(settings: ScannerSettings) -> IdleGate | None:
    """The gate configured by `[kiosk.scanner] idle_gate` and `idle_decode_seconds`."""
    return IdleGate(settings.idle_decode_seconds) if settings.idle_gate else None
