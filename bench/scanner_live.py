"""Scanner on hard held-out frames and on live clips: pyzbar alone, zxing-cpp alone, the
chain, and the chain behind the idle gate (the kiosk), in one run.

Hard frames (bench/hard_cards.py, seeds not used anywhere else): share read, wrong reads,
false reads on empty frames and on zxing-cpp's falsepositives-* photos, p50/p95 ms per 720p
frame within the frame budget. Live clips: a card brought in, held and taken away at 15 fps,
decoded in simulated real time as the worker does (the newest frame when the decoder is
free; a linear read reported once two frames within 0.6 s agree): share of clips read,
median and p95 from the card fully in view to the first report, wrong reports, and CPU
share (thread CPU time, and wall time, of decoding per second of clip) while the room is
empty and while the card is in view. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from bench.hard_cards import HARD_SYMBOLOGIES, hard_card_frames, hard_empty_frames
from bench.report import write_section
from bench.scanner import SAMPLES, ms_cell, percentile, row
from kiosk.config import ScannerSettings
from kiosk.demo import footage, membercard
from kiosk.scanner.chain import build_chain
from kiosk.scanner.checksums import SELF_CHECKING
from kiosk.scanner.decoders import PyzbarDecoder, Symbol, ZxingDecoder
from kiosk.scanner.gate import IdleGate
from kiosk.scanner.preprocessing import as_gray
from kiosk.scanner.worker import CONFIRM_WINDOW_SECONDS

HARD_FRAMES = int(os.environ.get("KIOSK_BENCH_HARD_FRAMES", "150"))
HARD_EMPTY = int(os.environ.get("KIOSK_BENCH_HARD_EMPTY", "40"))
FPS = 15.0
CLIP = {"empty_before": 30, "entering": 8, "held": 30, "leaving": 8, "empty_after": 30}
DIFFICULTY = {
    "easy": footage.Pose(angle=4.0, tilt=0.04, blur=0.5, width_fraction=0.55),
    "medium": footage.Pose(angle=-14.0, tilt=0.12, blur=1.0, brightness=0.6, noise=4,
                           width_fraction=0.42),
    "hard": footage.Pose(angle=24.0, tilt=0.2, blur=1.4, brightness=0.4, noise=7,
                         width_fraction=0.32),
}  # fmt: skip
Read = Callable[[np.ndarray], list[Symbol]]


def methods(settings: ScannerSettings) -> dict[str, tuple[Read, bool]]:
    """name -> (read a BGR frame, behind the idle gate); fresh chains (they learn costs)."""
    pyzbar, zxing = PyzbarDecoder(settings.formats), ZxingDecoder(settings.formats)
    plain, gated = build_chain(settings), build_chain(settings)
    return {
        "pyzbar": (lambda f: pyzbar.decode(as_gray(f)), False),
        "zxing-cpp": (lambda f: zxing.decode(as_gray(f)), False),
        "chain": (lambda f: plain.decode(f, spread=True).symbols, False),
        "chain + idle gate (kiosk)": (lambda f: gated.decode(f, spread=True).symbols, True),
    }


@dataclass
class Tally:
    frames: int = 0
    read: int = 0
    wrong: int = 0
    ms: list[float] = field(default_factory=list)


def hard_frames(settings: ScannerSettings, emit: Callable[[str], None]) -> None:
    cards = hard_card_frames(HARD_FRAMES, seed=5150)
    empties = hard_empty_frames(HARD_EMPTY, seed=7270)
    photos = []
    for folder in sorted(SAMPLES.glob("falsepositives-*")) if SAMPLES.is_dir() else []:
        for image in sorted(folder.iterdir()):
            gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
            if gray is not None:
                photos.append(gray)
    found = methods(settings)
    emit(
        f"\n### hard held-out card frames ({len(cards)}: {', '.join(HARD_SYMBOLOGIES)}; module "
        "1.2-4 px, rotation +-35 deg, tilt 0-0.3, defocus sigma 0.3-1.6, motion blur 2-7 px "
        "in half, uneven light, glare in 40 %, low light with noise in 30 %, JPEG 40-90, a "
        f"hand beside the card in half), {len(empties)} empty frames of the same camera, "
        + (f"{len(photos)} falsepositives-* photos\n" if photos else
           f"falsepositives-* not found at {SAMPLES} (../shared beside the repository): "
           "skipped\n")
    )  # fmt: skip
    names = [n for n in found if "gate" not in n]
    emit(row("", *names))
    emit("|---|" + "---:|" * len(names))
    per: dict[str, dict[str, Tally]] = {n: {s: Tally() for s in HARD_SYMBOLOGIES} for n in names}
    empty_false = dict.fromkeys(names, 0)
    photo_false = dict.fromkeys(names, 0)
    for name in names:
        read = found[name][0]
        for symbology, text, frame in cards:
            started = time.perf_counter()
            texts = [s.text for s in read(frame)]
            tally = per[name][symbology]
            tally.frames += 1
            tally.ms.append((time.perf_counter() - started) * 1000)
            tally.read += text in texts
            tally.wrong += bool(texts) and text not in texts
        empty_false[name] = sum(bool(read(frame)) for frame in empties)
        photo_false[name] = sum(bool(read(gray)) for gray in photos)
    for symbology in HARD_SYMBOLOGIES:
        cells = [f"{per[n][symbology].read}/{per[n][symbology].frames}" for n in names]
        emit(row(symbology, *cells))
    totals = {n: (sum(t.read for t in per[n].values()), sum(t.frames for t in per[n].values()))
              for n in names}  # fmt: skip
    emit(row("**all**", *(f"**{r}/{t} ({100 * r / t:.1f} %)**" for r, t in totals.values())))
    emit(row("wrong reads", *(sum(t.wrong for t in per[n].values()) for n in names)))
    emit(row("false reads, empty frames", *(empty_false[n] for n in names)))
    emit(row("false reads, falsepositives-*", *(photo_false[n] for n in names)))
    ms = {n: [m for t in per[n].values() for m in t.ms] for n in names}
    emit(row("p50 / p95 ms per card frame", *(ms_cell(ms[n]) for n in names)))


@dataclass
class ClipResult:
    read: bool = False
    wrong: int = 0
    latency: float | None = None
    cpu: dict[str, float] = field(default_factory=lambda: {"idle": 0.0, "busy": 0.0})
    wall: dict[str, float] = field(default_factory=lambda: {"idle": 0.0, "busy": 0.0})


def play_clip(frames: list[np.ndarray], text: str, read: Read, gate: IdleGate | None) -> ClipResult:
    """Decode `frames` (15 fps) in simulated real time: the decoder takes the newest frame
    once free; time advances by the decode's own wall time."""
    out = ClipResult()
    in_view = (CLIP["empty_before"], CLIP["empty_before"] + CLIP["entering"] + CLIP["held"])
    fully_in_view = (CLIP["empty_before"] + CLIP["entering"]) / FPS
    pending: dict[str, float] = {}
    now, last = 0.0, -1
    while True:
        index = min(len(frames) - 1, int(now * FPS + 1e-9))
        if index == last:
            index += 1
            now = index / FPS
        if index >= len(frames):
            break
        last = index
        phase = "busy" if in_view[0] <= index < in_view[1] + CLIP["leaving"] else "idle"
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        symbols = read(frames[index]) if gate is None or gate.wants(frames[index], now) else []
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        out.cpu[phase] += cpu
        out.wall[phase] += wall
        now += wall
        for symbol in symbols:
            confirmed = symbol.format in SELF_CHECKING
            first = pending.get(symbol.text)
            if not confirmed and first is not None and now - first <= CONFIRM_WINDOW_SECONDS:
                confirmed = True
            if not confirmed:
                pending[symbol.text] = now
                continue
            if symbol.text != text:
                out.wrong += 1
            elif not out.read:
                out.read, out.latency = True, max(0.0, now - fully_in_view)
    return out


def live_clips(settings: ScannerSettings, emit: Callable[[str], None]) -> None:
    sequence = footage.Sequence(**CLIP)  # type: ignore[arg-type]
    clips = []
    for d, (difficulty, pose) in enumerate(DIFFICULTY.items()):
        for s, symbology in enumerate(HARD_SYMBOLOGIES):
            number = d * 10 + s
            card = membercard.MemberCard(member_id=str(19100000 + 37 * number), symbology=symbology)
            shots = footage.sequence_frames(card, replace(sequence, pose=pose), seed=900 + number)
            frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in shots]
            clips.append((difficulty, card.text, frames))
    seconds = len(clips[0][2]) / FPS
    idle_s = (CLIP["empty_before"] + CLIP["empty_after"]) / FPS
    busy_s = seconds - idle_s
    emit(
        f"\n### live clips: {len(clips)} clips ({', '.join(DIFFICULTY)} x "
        f"{', '.join(HARD_SYMBOLOGIES)}), each {seconds:.1f} s at 15 fps: 2 s of empty room, "
        "the card brought in (0.5 s), held 2 s, taken away, 2 s of empty room\n"
    )
    emit(row("", "clips read", "easy / medium / hard", "median s to read", "p95 s",
             "wrong reports", "CPU idle (wall)", "CPU card in view (wall)"))  # fmt: skip
    emit("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (read, gated) in methods(settings).items():
        results = []
        for difficulty, text, frames in clips:
            gate = IdleGate(settings.idle_decode_seconds) if gated else None
            results.append((difficulty, play_clip(frames, text, read, gate)))
        by = {d: sum(r.read for dd, r in results if dd == d) for d in DIFFICULTY}
        n_each = len(HARD_SYMBOLOGIES)
        latencies = [r.latency for _, r in results if r.latency is not None]
        cpu = {p: sum(r.cpu[p] for _, r in results) for p in ("idle", "busy")}
        wall = {p: sum(r.wall[p] for _, r in results) for p in ("idle", "busy")}
        share = {"idle": idle_s * len(clips), "busy": busy_s * len(clips)}
        use = [f"{100 * cpu[p] / share[p]:.0f} % ({100 * wall[p] / share[p]:.0f} %)" for p in share]
        emit(row(
            name,
            f"{sum(by.values())}/{len(clips)}",
            " / ".join(f"{by[d]}/{n_each}" for d in DIFFICULTY),
            f"{statistics.median(latencies):.2f}" if latencies else "-",
            f"{percentile(latencies, 0.95):.2f}" if latencies else "-",
            sum(r.wrong for _, r in results),
            *use,
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
        f"Run {time.strftime('%Y-%m-%d %H:%M')} under nice, one core (cv2.setNumThreads(1)); "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores shared with "
        "other helpers' work: wall times are pessimistic, CPU time is the steadier figure). "
        f"Chain: {' + '.join(settings.decoders)}, budget {settings.frame_budget_ms:.0f} ms; "
        f"idle gate re-checks an empty room every {settings.idle_decode_seconds:.1f} s."
    )
    hard_frames(settings, emit)
    live_clips(settings, emit)
    load = os.getloadavg()
    emit(f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")
    text = "## Scanner: hard frames and live clips\n\n" + INTRO + "\n".join(lines) + "\n"
    write_section(text + NOTES)
    return 0


INTRO = """`.venv/bin/python -m bench scanner-live` (part of `make bench`), bench/scanner_live.py:
generated frames and clips the chain was not tuned on. CPU share = decoding's thread CPU time
per second of clip (in brackets: its wall time), idle = the empty-room parts of the clips,
card in view = from entering to leaving. "Wrong reports" count what the kiosk would report
(two agreeing frames for a linear code) that is not the card's text.

"""

NOTES = """
Reading of the 2026-12-01 run (load average 2-8 while it ran: wall times are inflated,
thread CPU time is the figure to compare):
- Wrong reads: 0 for every decoder on hard frames and in the clips; false reads 0 on the
  empty frames. The falsepositives-* photos were not beside the worktree the run used;
  tests/scanner/test_decoders.py::test_false_positive_photos_give_no_read reads none of
  them with the plausibility rules in place.
- Idle gate: decoding an empty room cost 4 % of a core (thread CPU) behind the gate against
  24 % for the chain on every frame; with the card in view the cost is the chain's. The
  first report comes no later (p95 0.17 s vs 0.16 s from the card fully in view; medians 0:
  the card is read while still coming in), well inside the 100 ms allowance.
- Clips read differ between "chain" and "chain + idle gate" (7 vs 10 of 15) because the
  clips are decoded in real time on a loaded machine: the un-gated chain spent its frames
  on the empty room and learned slow step costs; the medium and hard clips are the ones
  lost. Re-run on a quiet machine before drawing more from it.
- NOT met: 88 % of hard frames. This generated set is far harder than the webcam set of
  issue 15 (there zxing-cpp alone read 69.7 %, here 14.7 %; at 4 px modules without the
  camera effects zxing-cpp alone reads 37.5 % of 40, so rotation up to 35 deg and tilt
  dominate). The chain reads the most (20.7 %), but its p50 per frame (35 ms) is above
  zxing-cpp alone (4.4 ms): it spends its budget on frames it cannot read. zxing-cpp's
  own options (binarizers, is_pure, try_downscale, crops by contour, a second scale) are
  compared in the table below.

zxing-cpp's own options on 60 further hard frames (seed 4242; a one-off script, not part
of make bench, run 2026-12-01 23:20, load average about 8; thread CPU ms p50), zxing-cpp
alone unless said:

| variant | read | p50 ms |
|---|---:|---:|
| default (local average binariser, try_rotate, try_downscale) | 8/60 | 5.6 |
| GlobalHistogram binariser | 4/60 | 4.9 |
| FixedThreshold binariser | 4/60 | 2.8 |
| try_downscale off | 8/60 | 4.2 |
| second scale 1.5x | 8/60 | 10.6 |
| second scale 0.5x | 0/60 | 2.2 |
| the chain's deskewed crops (by gradient) | 11/60 | 9.4 |
| deskewed crops, GlobalHistogram | 11/60 | 8.3 |

None of the binarisers or scales beats the default; the crops found by gradient (already
the chain's second step) read the most. `is_pure` does not apply to camera frames (it
expects a symbol filling the image). Nothing in the chain changed from this.
"""

if __name__ == "__main__":
    raise SystemExit(main())
