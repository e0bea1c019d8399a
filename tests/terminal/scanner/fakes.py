"""Fakes for the scanner tests: a frame source a test can steer, a clock that follows
the frames, and a collector of scanner events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from kiosk.terminal.scanner.sources import Backoff, EndOfStream, FrameSource, SourceUnavailable

MEMBER = "19000123"
ISBN = "9786020332956"  # a book from the library's shelves: not a member card
# The demo library's pattern (config.toml [cards]): 8 digits starting with 19, Codabar
# start/stop letters allowed around them.
CARD_PATTERN = r"(?P<start>[A-D])?(?P<id>19\d{6})(?(start)[A-D])"
FPS = 15.0


class FrameClock:
    """Simulated time that advances 1/fps per frame delivered by a ListSource."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ListSource(FrameSource):
    """Frames from a list, paced at `interval` real seconds, each advancing `clock` by
    1/fps simulated seconds; `broken(index)` says which frames find the camera unplugged
    (the source then fails to reopen until a frame that is not broken); `ready(index)`,
    when given, is awaited before frame `index` is delivered (a test makes the worker
    decode every frame, in order, whatever the machine's load)."""

    description = "list"

    def __init__(
        self,
        frames: list[np.ndarray],
        *,
        clock: FrameClock | None = None,
        interval: float = 0.01,
        broken: Callable[[int], bool] = lambda index: False,
        loop: bool = False,
        backoff: Backoff | None = None,
        ready: Callable[[int], bool] | None = None,
    ) -> None:
        super().__init__(backoff or Backoff(0.01, 0.02))
        self.ready = ready
        self.frames, self.clock, self.interval = frames, clock, interval
        self.broken, self.loop = broken, loop
        self.index = 0
        self.opened = 0

    def _open(self) -> None:
        if self.broken(self.index):
            self.index += 1  # time goes on while the camera is away
            if self.clock is not None:
                self.clock.now += 1 / FPS
            raise SourceUnavailable("unplugged")
        self.opened += 1

    def _grab(self) -> np.ndarray | None:
        if self.index >= len(self.frames):
            if not self.loop:
                raise EndOfStream("list")
            self.index = 0
        index = self.index
        while self.ready is not None and not self.ready(index):
            if self.pause(0.002):
                return None
        self.index += 1
        if self.clock is not None:
            self.clock.now += 1 / FPS
        if self.pause(self.interval):
            return None
        if self.broken(index):
            return None
        return self.frames[index]

    def _release(self) -> None:
        pass


class EventLog:
    """Collects ScanEvents from the worker threads; wait_for awaits a condition on them."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._changed = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def kinds(self) -> list[str]:
        with self._changed:
            return [e.kind for e in self.events]  # type: ignore[attr-defined]

    def of(self, kind: str) -> list[object]:
        with self._changed:
            return [e for e in self.events if e.kind == kind]  # type: ignore[attr-defined]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
        return True
