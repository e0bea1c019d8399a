"""When a live camera's reads are evidence of the card held in front of it: agreeing, still,
whole sightings with no other number where it is (docs/ARCHITECTURE.md, "a wrong number")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.terminal.scanner.checksums import MANDATORY_CHECK, SELF_CHECKING
from kiosk.terminal.scanner.decoders import Points, Symbol

# Two sightings agree only within this many seconds of each other (about 9 frames at 15 fps).
CONFIRM_WINDOW_SECONDS = 0.6
# Symbologies whose every read carries a check (EAN/UPC's digit, Code 128's and Code 93's
# check characters): two agreeing sightings. The others (Codabar, Code 39, ITF: a misread
# bar or a cut-off end gives another valid-looking number) need three.
CHECKED = MANDATORY_CHECK | {"Code128", "Code93"}
SIGHTINGS_CHECKED = 2
SIGHTINGS_UNCHECKED = 3
# Held: between agreeing sightings the code's centre moved at most this share of its length,
# and its length changed by at most this ratio. A card taken away moves a good part of its
# length per frame, and a misread fragment is shorter than the code it comes from.
HELD_SHIFT = 0.15
HELD_SCALE = 1.2
# A code within this many pixels of the frame's edge may be cut off by it: not evidence.
EDGE_PX = 3.0
# After a code was last seen, another number of its symbology read where it was (within two
# of its lengths of its centre) is taken for a misread of it for this long.
SHADOW_SECONDS = 0.8
SHADOW_REACH = 2.0


@dataclass(frozen=True)
class Sighting:
    """One read of a code in one frame: when, where (centre) and how long, in pixels."""

    text: str
    format: str
    at: float
    centre: tuple[float, float]
    length: float

    def holds_with(self, later: Sighting) -> bool:
        """True when `later` shows the code at the same place and size (the card held)."""
        if later.at - self.at > CONFIRM_WINDOW_SECONDS:
            return False
        shift = math.dist(self.centre, later.centre)
        scale = max(self.length, later.length) / max(min(self.length, later.length), 1.0)
        return shift <= HELD_SHIFT * max(self.length, later.length) and scale <= HELD_SCALE

    def near(self, other: Sighting) -> bool:
        reach = SHADOW_REACH * max(self.length, other.length, 1.0)
        return math.dist(self.centre, other.centre) <= reach


def sighting(symbol: Symbol, at: float) -> Sighting:
    return Sighting(symbol.text, symbol.format, at, _centre(symbol.points), _length(symbol.points))


def sightings_needed(fmt: str) -> int:
    if fmt in SELF_CHECKING:
        return 1
    return SIGHTINGS_CHECKED if fmt in CHECKED else SIGHTINGS_UNCHECKED


class Evidence:
    """Decides, sighting by sighting, whether a code is confirmed: a 2-D code at once (its
    error correction checks every module); a linear one when enough consecutive sightings
    agree, each held in place against the last, whole in the frame, and no other number of
    its symbology was read near it meanwhile or near a confirmed code still in view."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], list[Sighting]] = {}  # held sightings in a row
        self._confirmed: dict[tuple[str, str], Sighting] = {}  # last sighting of each

    def forget(self) -> None:
        self._runs.clear()
        self._confirmed.clear()

    def confirms(self, symbol: Symbol, now: float, frame_size: tuple[int, int]) -> bool:
        """Record `symbol` read at `now` in a frame of `frame_size`; True when it is
        confirmed (the card in front of the camera), False while the evidence is short."""
        seen = sighting(symbol, now)
        key = (seen.format, seen.text)
        self._expire(now)
        if symbol.format in SELF_CHECKING:
            self._confirmed[key] = seen
            return True
        if _at_edge(symbol.points, frame_size):
            self._runs.pop(key, None)
            return False
        if self._shadowed(seen):
            return False
        if key in self._confirmed:
            # The shadow follows the card (also as it leaves); only a held sighting counts.
            held = self._confirmed[key].holds_with(seen)
            self._confirmed[key] = seen
            if held:
                return True
        self._contradict(seen)
        run = self._runs.get(key, [])
        run = [*run, seen] if run and run[-1].holds_with(seen) else [seen]
        if len(run) < sightings_needed(seen.format):
            self._runs[key] = run
            return False
        self._runs.pop(key, None)
        self._confirmed[key] = seen
        return True

    def _shadowed(self, seen: Sighting) -> bool:
        """True when another number of the same symbology was confirmed near here and is
        still (or was just) in view: two numbers at one place, the later is a misread."""
        return any(
            fmt == seen.format and text != seen.text and last.near(seen)
            for (fmt, text), last in self._confirmed.items()
        )

    def _contradict(self, seen: Sighting) -> None:
        """Another number read near an unconfirmed run undoes that run: one place, one card,
        so at least one of the two is a misread and neither counts as evidence yet."""
        for key, run in list(self._runs.items()):
            last = run[-1]
            if key != (seen.format, seen.text) and key[0] == seen.format and last.near(seen):
                del self._runs[key]

    def _expire(self, now: float) -> None:
        self._runs = {
            k: run for k, run in self._runs.items() if now - run[-1].at <= CONFIRM_WINDOW_SECONDS
        }
        self._confirmed = {
            k: last for k, last in self._confirmed.items() if now - last.at <= SHADOW_SECONDS
        }


def _centre(points: Points) -> tuple[float, float]:
    if not points:
        return (0.0, 0.0)
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def _length(points: Points) -> float:
    """The code's longer side (for a linear code: along its sequence of bars), whatever
    order the decoder gives its corners in."""
    if len(points) < 2:
        return 0.0
    sides = [math.dist(points[i], points[(i + 1) % len(points)]) for i in range(len(points))]
    return max(sides)


def _at_edge(points: Points, frame_size: tuple[int, int]) -> bool:
    width, height = frame_size
    if not points or width <= 0 or height <= 0:
        return False
    return any(
        x < EDGE_PX or y < EDGE_PX or x > width - 1 - EDGE_PX or y > height - 1 - EDGE_PX
        for x, y in points
    )
