"""The decoder chain: preprocessing steps read by decoders, tried in order within a per-frame
time budget that learns each step's cost."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.config import ConfigError, ScannerSettings
from kiosk.terminal.scanner.checksums import LINEAR_FORMATS, SELF_CHECKING, check_symbol
from kiosk.terminal.scanner.deblur import prepare_deblur
from kiosk.terminal.scanner.decoders import (
    Decoder,
    Points,
    Symbol,
    WeChatDecoder,
    ZxingDecoder,
    make_decoder,
    validate_formats,
)
from kiosk.terminal.scanner.plausibility import implausible
from kiosk.terminal.scanner.preprocessing import (
    Prepare,
    as_gray,
    forget_crops,
    prepare_deskew,
    prepare_equalise,
    prepare_fit,
    prepare_gray,
    prepare_invert,
    prepare_upscale,
    prepare_zoom,
)


@dataclass(frozen=True)
class Step:
    """One attempt: a preprocessing of the greyscale image read by one decoder."""

    name: str
    prepare: Prepare
    decoder: Decoder
    # False when the preprocessing bounds the work (crops, a fitted size): the cost is then
    # learned in ms rather than in ms per megapixel.
    sized: bool = True


SKIPPED_COST_DECAY = 0.95  # a step over budget by 2x is retried after ~14 skipped frames
# Counted in CPU time a step's cost does not swell with the machine's load, so it fades far
# slower (over budget by 2x: retried after ~70 frames): each retry of a step that cannot fit
# stalls a frame for several budgets, a second of wall time on a busy machine, and a card
# held up meanwhile is missed.
CPU_SKIPPED_COST_DECAY = 0.99
# With the budget in CPU time, a frame may still take this many budgets of wall time (the
# decoder waiting for a busy core) before no further step starts: the preview's reads stay
# recent on a machine that is fully taken.
WALL_BUDGETS = 4.0
# With `spread`, the step that read the last frame is tried next, right after the first
# pass, until it has missed this many frames in a row: a card held up is read by the same
# view frame after frame, while the rotation through the others would find it once in a
# round (on a busy machine, once in several frames: too seldom to confirm it).
HIT_MISSES = 4
# and every other frame the optional steps that have read a card before (in video: the
# deskewed and deblurred crops, the zoom) come before the rest, still in turn; the other
# frames keep the plain rotation, so that every step keeps its chance.


@dataclass
class ChainResult:
    symbols: list[Symbol]
    ms: float
    steps: list[str] = field(default_factory=list)
    checksum_failures: int = 0
    implausible: int = 0  # reads no card can give (a fragment of a longer symbol)


class DecoderChain:
    """Tries its steps in order until one reads a symbol. The first step always runs; a
    later one starts only while budget is left and when its learned cost alone does not
    exceed the whole budget (so one slow step cannot stall every frame)."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        budget_ms: float = 60.0,
        verify_optional_checksums: bool = False,
        cpu_budget: bool = False,
    ) -> None:
        if not steps:
            raise ValueError("a decoder chain needs at least one step")
        self.steps = list(steps)
        self.budget_ms = budget_ms
        self.verify_optional_checksums = verify_optional_checksums
        # The budget in wall time, or with `cpu_budget` in this thread's CPU time: the kiosk's
        # own UI (or anything else) taking a core then slows the frames down but leaves the
        # steps each frame gets, and so its reads, as on an idle machine (up to WALL_BUDGETS).
        self.cpu_budget = cpu_budget
        # Learned cost of each step in CPU ms per megapixel (running average), to predict
        # whether a step still fits the budget.
        self._cost: dict[str, float] = {}
        self._skipped: dict[str, int] = {}  # frames since a step was last run for its cost
        self._cursor = 0
        # Wall time (None: time.perf_counter); a bench simulates a share of a core with it.
        self.wall_clock: Callable[[], float] | None = None
        self.cpu_decay = CPU_SKIPPED_COST_DECAY
        self.keep_hit = True  # see HIT_MISSES (the bench measures it off, too)
        self._hit: int | None = None  # the optional step that read a recent frame
        self._hit_misses = 0
        self._productive: set[int] = set()  # optional steps that have read something
        self._frames = 0  # frames decoded with `spread`

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    def decode(
        self, image: np.ndarray, budget_ms: float | None = None, *, spread: bool = False
    ) -> ChainResult:
        """Symbols in `image` (grey or BGR) from the first step that reads any.

        With `spread` (video), the optional steps start where the previous frame left off,
        so that consecutive frames of the same scene try different steps instead of
        repeating the ones that already failed.
        """
        wall = self.wall_clock or time.perf_counter
        clock = time.thread_time if self.cpu_budget else wall
        started, wall_started = clock(), wall()
        budget = self.budget_ms if budget_ms is None else budget_ms
        gray = as_gray(image)
        forget_crops()
        # Costs scale with pixels, plus a fixed part that dominates on small images.
        megapixels = max(gray.shape[0] * gray.shape[1] / 1e6, 0.1)
        result = ChainResult([], 0.0)
        order = list(range(len(self.steps)))
        hit = self._hit if spread and self.keep_hit else None
        decay = self.cpu_decay if self.cpu_budget else SKIPPED_COST_DECAY
        if spread and len(order) > 2:
            extras = order[1:]
            shift = self._cursor % len(extras)
            extras = [*extras[shift:], *extras[:shift]]
            self._frames += 1
            if self.keep_hit and self._frames % 2 == 0:
                extras.sort(key=lambda i: i not in self._productive)  # stable: in turn
            order = [0, *([hit] if hit is not None else []), *(i for i in extras if i != hit)]
        for position, index in enumerate(order):
            step = self.steps[index]
            elapsed = (clock() - started) * 1000
            expected = self._cost.get(step.name, 0.0) * (megapixels if step.sized else 1.0)
            if position > 0 and elapsed >= budget:
                continue
            # The wall cap spares the step that just read: on a fully taken machine it is
            # the one most likely to read again, and it keeps within the CPU budget.
            late = wall() - wall_started >= budget * WALL_BUDGETS / 1000
            if position > 0 and late and index != hit:
                continue
            skipped = self._skipped.get(step.name, 0)
            if position > 0 and expected * decay**skipped > budget:
                # The estimate fades while skipped, so that a step measured once on a busy
                # machine is tried again later instead of never.
                self._skipped[step.name] = skipped + 1
                continue
            self._skipped[step.name] = 0
            if spread and position > 0 and index != hit:
                self._cursor += 1
            symbols = self._run(step, gray, megapixels, result)
            result.steps.append(step.name)
            if spread:
                self._remember(index, bool(symbols))
            if symbols:
                result.symbols = symbols
                break
        forget_crops()
        result.ms = (clock() - started) * 1000
        return result

    def _remember(self, index: int, read: bool) -> None:
        """Keep the optional step that read, and that it did (see HIT_MISSES); forget it as
        the one to try first after its misses."""
        if read and index != 0:
            self._hit, self._hit_misses = index, 0
            self._productive.add(index)
        elif not read and index == self._hit:
            self._hit_misses += 1
            if self._hit_misses >= HIT_MISSES:
                self._hit = None

    def _run(
        self, step: Step, gray: np.ndarray, megapixels: float, result: ChainResult
    ) -> list[Symbol]:
        # The step's own CPU time, not wall time: on a machine busy with other work a step
        # waits without costing more, and learning the wait would skip it for many frames.
        started = time.thread_time()
        symbols: list[Symbol] = []
        seen: set[tuple[str, str]] = set()
        for view, inverse in step.prepare(gray):
            for symbol in step.decoder.decode(view):
                checked = check_symbol(symbol, self.verify_optional_checksums)
                if checked is None:
                    result.checksum_failures += 1
                    continue
                if implausible(checked) is not None:
                    result.implausible += 1
                    continue
                if (checked.text, checked.format) in seen:
                    continue
                seen.add((checked.text, checked.format))
                symbols.append(
                    Symbol(
                        checked.text,
                        checked.format,
                        _map_points(checked.points, inverse),
                        step.name,
                    )
                )
            if symbols:
                break
        symbols = drop_conflicts(symbols)
        ms = (time.thread_time() - started) * 1000
        cost = ms / megapixels if step.sized else ms
        previous = self._cost.get(step.name)
        self._cost[step.name] = cost if previous is None else 0.8 * previous + 0.2 * cost
        return symbols


def drop_conflicts(symbols: list[Symbol]) -> list[Symbol]:
    """Without the linear symbols that overlap another of their format with a different
    text: two readings of one place cannot both be right, and guessing would risk naming
    the wrong member. (Two different QR codes may nest: some designs do that.)"""
    if len(symbols) < 2:
        return symbols
    boxes = [_bounds(s.points) for s in symbols]
    keep = []
    for i, symbol in enumerate(symbols):
        clash = symbol.format not in SELF_CHECKING and any(
            j != i
            and symbols[j].format == symbol.format
            and symbols[j].text != symbol.text
            and _overlap(boxes[i], boxes[j])
            for j in range(len(symbols))
        )
        if not clash:
            keep.append(symbol)
    return keep


def _bounds(points: Points) -> tuple[float, float, float, float]:
    if not points:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _map_points(points: Points, inverse: np.ndarray | None) -> Points:
    if inverse is None or not points:
        return points
    array = np.array(points, np.float32).reshape(-1, 1, 2)
    mapped = cv2.transform(array, inverse).reshape(-1, 2)
    return tuple((float(x), float(y)) for x, y in mapped)


def chain_steps(decoders: Sequence[str], formats: Sequence[str]) -> list[Step]:
    """The steps for a chain of decoders, in the configured order: each decoder on the plain
    greyscale image followed by its cheap variants, then the costly variants of all of them
    (the order the benchmark in docs/benchmarks.md found most productive per millisecond).

    zxing-cpp's first pass skips its 90-degree and downscaled retries: on the hard frames
    they read nothing more and doubled the time of every frame read at once; its later
    steps cover a card held sideways (the deskewed crops, then zxing-cpp with all retries).
    """
    if not decoders:
        raise ConfigError("kiosk.scanner.decoders: the chain needs at least one decoder")
    formats = validate_formats(formats)
    linear = [f for f in formats if f in LINEAR_FORMATS]
    cheap: list[Step] = []
    costly: list[Step] = []
    for name in dict.fromkeys(decoders):
        decoder = make_decoder(name, formats)
        if isinstance(decoder, WeChatDecoder):
            if decoder.enabled:
                cheap.append(Step(name, prepare_fit, decoder, sized=False))
            continue
        if isinstance(decoder, ZxingDecoder):
            cheap.extend(zxing_steps(formats, linear))
            costly.append(Step("zxing-cpp+equalise", prepare_equalise, decoder))
        else:
            cheap.append(Step(name, prepare_gray, decoder))
            costly.append(Step("pyzbar+invert", prepare_invert, decoder))
            costly.append(Step("pyzbar+upscale", prepare_upscale, decoder))
    if not cheap:
        raise ConfigError("kiosk.scanner.decoders: no decoder in the chain reads the formats")
    return cheap + costly


def zxing_steps(formats: list[str], linear: list[str]) -> list[Step]:
    """zxing-cpp's cheap steps, most productive first."""
    first = ZxingDecoder(formats, try_rotate=False, try_downscale=False)
    steps = [Step("zxing-cpp", prepare_gray, first)]
    if linear:
        # The crops are already upright and scaled: no rotated or downscaled passes
        # (a downscaled blurred crop is where misreads came from).
        straight = ZxingDecoder(linear, try_rotate=False, try_downscale=False)
        steps.append(Step("zxing-cpp+deskew", prepare_deskew, straight, sized=False))
        steps.append(Step("zxing-cpp+deblur", prepare_deblur, straight, sized=False))
    # Enlarged textured regions: a QR's, and the short codes small enough to look so.
    steps.append(Step("zxing-cpp+zoom", prepare_zoom, first, sized=False))
    every = ZxingDecoder(formats)
    steps.append(Step("zxing-cpp+retries", prepare_gray, every))
    steps.append(Step("zxing-cpp+upscale", prepare_upscale, every))
    steps.append(Step("zxing-cpp[global]", prepare_gray, ZxingDecoder(formats, binarizer="global")))
    return steps


def build_chain(settings: ScannerSettings, decoders: Sequence[str] | None = None) -> DecoderChain:
    """The chain configured by `[kiosk.scanner]` (decoders, formats, frame_budget_ms,
    budget_in_cpu_time, verify_optional_checksums); `decoders` overrides the configured
    list."""
    names = list(decoders) if decoders is not None else list(settings.decoders)
    return DecoderChain(
        chain_steps(names, settings.formats),
        budget_ms=settings.frame_budget_ms,
        verify_optional_checksums=settings.verify_optional_checksums,
        cpu_budget=settings.budget_in_cpu_time,
    )
