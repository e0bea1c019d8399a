"""Scanner on queues of patrons: three cards with consecutive numbers, each brought in, held
a second and taken away with motion blur toward an edge, decoded in simulated real time, on
an idle machine and with every core but one taken by a busy loop; the previous kiosk (frame
budget in wall time, two agreeing frames) beside the kiosk now (CPU time, evidence.py).

Seeds 7300-7307 are used nowhere else. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np

from bench.hard_cards import width_for_module
from bench.report import write_section
from bench.scanner import percentile, row
from kiosk.config import ScannerSettings
from kiosk.demo import footage, membercard
from kiosk.terminal.scanner.chain import SKIPPED_COST_DECAY, build_chain
from kiosk.terminal.scanner.checksums import SELF_CHECKING
from kiosk.terminal.scanner.decoders import Symbol, ZxingDecoder
from kiosk.terminal.scanner.evidence import CONFIRM_WINDOW_SECONDS, Evidence
from kiosk.terminal.scanner.gate import IdleGate
from kiosk.terminal.scanner.preprocessing import as_gray

FPS = 15.0
QUEUES = int(os.environ.get("KIOSK_BENCH_QUEUES", "8"))
SYMBOLOGIES = ("Codabar", "Code128", "Code39", "EAN13", "ITF", "QRCode")
# Busy loops beside the decoder: none, every core but one (on the kiosk's two cores: the UI
# drawing on the other), every core (the UI and another program).
# Shares of a core given to the decoder in the simulated runs: 1/2 is the decoder beside one
# busy loop on its core (both cores busy), 1/3 beside two.
SHARES = [float(eval(n, {})) for n in os.environ.get("KIOSK_BENCH_SHARES", "1,1/2,1/3").split(",")]
BUSY_LOOPS = [int(n) for n in os.environ.get("KIOSK_BENCH_BUSY", "0,1,2").split(",")]
EXITS = ((0.0, 0.9), (0.0, -0.9), (0.9, 0.05), (-0.9, 0.05))  # down, up, right, left
Read = Callable[[np.ndarray], list[Symbol]]


@dataclass
class Queue:
    texts: list[str]
    frames: list[np.ndarray]
    difficulty: float


def queue_clip(number: int) -> Queue:
    """Three cards with consecutive numbers, one after another, 0.5 s of empty room between."""
    rng = np.random.default_rng(7300 + number)
    difficulty = 0.3 + 0.6 * number / max(QUEUES - 1, 1)
    first = 19000000 + int(rng.integers(0, 999990))
    texts, frames = [], []
    for i in range(3):
        symbology = SYMBOLOGIES[(number + i) % len(SYMBOLOGIES)]
        card = membercard.MemberCard(member_id=str(first + i), symbology=symbology)
        module = 3.6 - 1.2 * difficulty + float(rng.uniform(-0.2, 0.2))
        pose = footage.Pose(
            centre=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.45, 0.55))),
            width_fraction=width_for_module(card, module),
            angle=float(rng.choice([-1, 1]) * (4 + 12 * difficulty) * rng.uniform(0.7, 1.0)),
            tilt=float(0.12 * difficulty * rng.uniform(0.5, 1.0)),
            blur=0.3 + 0.6 * difficulty,
            brightness=1.0 - 0.4 * difficulty,
            noise=2 + 4 * difficulty,
        )
        sequence = footage.Sequence(
            empty_before=8 if i == 0 else 0,
            entering=4,
            held=15,
            leaving=6,
            empty_after=8,
            pose=pose,
            exit_to=EXITS[(number + i) % len(EXITS)],
            shutter=0.5,
        )
        texts.append(card.text)
        shots = footage.sequence_frames(card, sequence, seed=7300 + number)
        frames += [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in shots]
    return Queue(texts, frames, difficulty)


@dataclass
class Run:
    read: set[str] = field(default_factory=set)
    wrong: int = 0
    decoded: int = 0
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


class TwoFrames:
    """The previous rule: a linear read counts once two frames within the window agree."""

    def __init__(self) -> None:
        self._first: dict[str, float] = {}

    def confirms(self, symbol: Symbol, now: float, size: tuple[int, int]) -> bool:
        if symbol.format in SELF_CHECKING:
            return True
        first = self._first.get(symbol.text)
        if first is not None and now - first <= CONFIRM_WINDOW_SECONDS:
            return True
        self._first[symbol.text] = now
        return False


def play(
    queue: Queue,
    read: Read,
    rule: Evidence | TwoFrames,
    gate: IdleGate | None,
    share: float | None = None,
) -> Run:
    """Decode the newest frame whenever the decoder is free; time goes by its wall time, or
    with `share` by its thread CPU time divided by that share of a core."""
    out = Run()
    now, last = 0.0, -1
    while True:
        index = int(now * FPS + 1e-9)
        if index <= last:
            index = last + 1
            now = index / FPS
        if index >= len(queue.frames):
            return out
        last = index
        frame = queue.frames[index]
        if gate is not None and not gate.wants(frame, now):
            continue
        wall, cpu = time.perf_counter(), time.thread_time()
        symbols = read(frame)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        out.decoded += 1
        out.ms.append(wall * 1000)
        out.cpu_ms.append(cpu * 1000)
        now += wall if share is None else cpu / share
        for symbol in symbols:
            if rule.confirms(symbol, now, (frame.shape[1], frame.shape[0])):
                if symbol.text in queue.texts:
                    out.read.add(symbol.text)
                else:
                    out.wrong += 1


def kiosks(
    settings: ScannerSettings, share: float | None = None
) -> dict[str, tuple[Read, Callable[[], object], bool]]:
    """name -> (read a BGR frame, a fresh confirming rule, behind the idle gate); with
    `share`, the chains' wall clock is their thread CPU time divided by it."""
    zxing = ZxingDecoder(settings.formats)
    wall = build_chain(settings)
    wall.cpu_budget = False
    wall.keep_hit = False
    first = build_chain(settings)
    first.cpu_budget = True
    first.keep_hit, first.cpu_decay = False, SKIPPED_COST_DECAY
    cpu = build_chain(settings)
    cpu.cpu_budget = True
    if share is not None:
        for chain in (wall, first, cpu):
            chain.wall_clock = lambda: time.thread_time() / share
    return {
        "zxing-cpp alone, two frames": (lambda f: zxing.decode(as_gray(f)), TwoFrames, False),
        "previous kiosk: wall-time budget, two frames, gate": (
            lambda f: wall.decode(f, spread=True).symbols,
            TwoFrames,
            True,
        ),
        "issue 28 first pass: CPU-time budget, evidence, gate": (
            lambda f: first.decode(f, spread=True).symbols,
            Evidence,
            True,
        ),
        "kiosk now: the same, the step that read tried first, costly steps retried seldom": (
            lambda f: cpu.decode(f, spread=True).symbols,
            Evidence,
            True,
        ),
    }


def _spin(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        sum(range(10_000))


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """`count` processes spinning at full speed (a UI drawing, another program)."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join()


def measure(queues: list[Queue], settings: ScannerSettings, emit: Callable[[str], None]) -> None:
    """Each load in turn; under one load the kiosks take turns queue by queue, so that a
    change in the machine's other work falls on all of them alike."""
    cards = sum(len(q.texts) for q in queues)
    frames = sum(len(q.frames) for q in queues)
    emit(row("", "load", "cards read", "wrong reports", "frames decoded", "p50 / p95 ms",
             "CPU ms per decoded frame (p50)"))  # fmt: skip
    emit("|---|---|---:|---:|---:|---:|---:|")
    for busy in BUSY_LOOPS:
        found = kiosks(settings)
        runs: dict[str, list[Run]] = {name: [] for name in found}
        with busy_cores(busy):
            start = os.getloadavg()[0]
            for queue in queues:
                for name, (read, rule, gated) in found.items():
                    gate = IdleGate(settings.idle_decode_seconds) if gated else None
                    runs[name].append(play(queue, read, rule(), gate))  # type: ignore[arg-type]
            end = os.getloadavg()[0]
        load_name = f"{busy} busy loop(s)" if busy else "idle"
        for name, done in runs.items():
            ms = [m for r in done for m in r.ms]
            cpu = [m for r in done for m in r.cpu_ms]
            read_count = sum(len(r.read) for r in done)
            emit(row(
                name,
                f"{load_name} (load {start:.1f}-{end:.1f})",
                f"{read_count}/{cards} ({100 * read_count / cards:.0f} %)",
                sum(r.wrong for r in done),
                f"{sum(r.decoded for r in done)}/{frames}",
                f"{statistics.median(ms):.1f} / {percentile(ms, 0.95):.1f}",
                f"{statistics.median(cpu):.1f}",
            ))  # fmt: skip


def measure_shares(
    queues: list[Queue], settings: ScannerSettings, emit: Callable[[str], None]
) -> None:
    """The decoder given a fixed share of a core, simulated: its wall time is its thread
    CPU time divided by the share, whatever else the machine is doing (it is shared)."""
    cards = sum(len(q.texts) for q in queues)
    frames = sum(len(q.frames) for q in queues)
    emit(row("", "share of a core (simulated)", "cards read", "wrong reports",
             "frames decoded", "CPU ms per decoded frame (p50 / p95)"))  # fmt: skip
    emit("|---|---|---:|---:|---:|---:|")
    for share in SHARES:
        found = {n: k for n, k in kiosks(settings, share).items() if "alone" not in n}
        runs: dict[str, list[Run]] = {name: [] for name in found}
        start = os.getloadavg()[0]
        for queue in queues:
            for name, (read, rule, gated) in found.items():
                gate = IdleGate(settings.idle_decode_seconds) if gated else None
                runs[name].append(play(queue, read, rule(), gate, share))  # type: ignore[arg-type]
        end = os.getloadavg()[0]
        for name, done in runs.items():
            cpu = [m for r in done for m in r.cpu_ms]
            read_count = sum(len(r.read) for r in done)
            emit(row(
                name,
                f"{share:g} (load {start:.1f}-{end:.1f})",
                f"{read_count}/{cards} ({100 * read_count / cards:.0f} %)",
                sum(r.wrong for r in done),
                f"{sum(r.decoded for r in done)}/{frames}",
                f"{statistics.median(cpu):.1f} / {percentile(cpu, 0.95):.1f}",
            ))  # fmt: skip


def main() -> int:
    cv2.setNumThreads(1)
    settings = ScannerSettings()
    lines: list[str] = []

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    load = os.getloadavg()
    emit(
        f"Run {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, cv2.setNumThreads(1); "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. "
        f"{QUEUES} queues of 3 cards (difficulty 0.3-0.9, {', '.join(SYMBOLOGIES)} in turn), "
        "each card 4 frames coming in, 1 s held, 6 frames taken away toward an edge (down, "
        "up, right, left in turn) with a motion blur of half its path per frame, 0.5 s of "
        "empty room; 15 fps, decoded in simulated real time.\n"
    )
    queues = [queue_clip(n) for n in range(QUEUES)]
    measure(queues, settings, emit)
    emit("")
    measure_shares(queues, settings, emit)
    load = os.getloadavg()
    emit(f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")
    write_section(
        "## Scanner: queues of patrons, idle and busy\n\n" + INTRO + "\n".join(lines) + "\n"
    )
    return 0


INTRO = """`.venv/bin/python -m bench scanner-queue` (part of `make bench`), bench/scanner_queue.py.
A card counts as read when the rule (two agreeing frames, or kiosk/scanner/evidence.py)
confirms its text; a wrong report is a confirmed text that is none of the queue's cards.
"Busy loop(s)": spinning processes for the whole run (1: every core but the decoder's, on
the kiosk's two cores the UI drawing on the other; 2: both cores, the UI and another
program), on top of whatever else the machine was doing (the load average at the start and
end of each load beside each row). Under one load the kiosks take turns queue by queue.
"Share of a core (simulated)": the decoder's wall time taken as its thread CPU time divided
by the share (1/2: beside one busy loop on its core), for the chain's wall cap and for the
clip's clock alike, so that the other sessions on a shared machine do not decide it.

"""


if __name__ == "__main__":
    raise SystemExit(main())
