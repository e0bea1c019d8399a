"""Scanner on hard held-out frames and on live clips: pyzbar alone, zxing-cpp alone, the
chain, and the chain behind the idle gate (the kiosk), in one run.

Hard frames (bench/hard_cards.py, seeds not used anywhere else): share read, wrong reads,
false reads on empty frames and on zxing-cpp's falsepositives-* photos, p50/p95 ms per 720p
frame within the frame budget. Live clips: a card brought in, held and taken away at 15 fps,
decoded in simulated real time as the worker does (the newest frame when the decoder is
free; a read reported once kiosk/scanner/evidence.py confirms it): share of clips read,
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

from bench.hard_cards import (
    CALIBRATED,
    HARD_SYMBOLOGIES,
    describe,
    hard_card_frames,
    hard_empty_frames,
)
from bench.report import write_section
from bench.scanner import SAMPLES, ms_cell, percentile, row
from kiosk.config import ScannerSettings
from kiosk.demo import footage, membercard
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.decoders import PyzbarDecoder, Symbol, ZxingDecoder
from kiosk.terminal.scanner.evidence import Evidence
from kiosk.terminal.scanner.gate import IdleGate
from kiosk.terminal.scanner.preprocessing import as_gray

HARD_FRAMES = int(os.environ.get("KIOSK_BENCH_HARD_FRAMES", "150"))
HARD_EMPTY = int(os.environ.get("KIOSK_BENCH_HARD_EMPTY", "40"))
# The measured seed: the chain was tuned on seeds 2101 and 2102 only (docs/benchmarks.md).
HARD_SEED = 5150
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
    cpu_ms: list[float] = field(default_factory=list)


def hard_frames(settings: ScannerSettings, emit: Callable[[str], None]) -> None:
    cards = hard_card_frames(HARD_FRAMES, seed=HARD_SEED)
    empties = hard_empty_frames(HARD_EMPTY, seed=7270)
    photos = []
    for folder in sorted(SAMPLES.glob("falsepositives-*")) if SAMPLES.is_dir() else []:
        for image in sorted(folder.iterdir()):
            gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
            if gray is not None:
                photos.append(gray)
    found = methods(settings)
    # Each hard frame stands alone: the chain tries its steps in its own order (spreading
    # them over frames is for consecutive frames of one scene).
    # The budget is counted in CPU time here: the machine is shared, and another session's
    # load would otherwise decide which steps fit (the kiosk has its machine to itself).
    still = build_chain(settings)
    still.cpu_budget = True
    found["chain"] = (lambda f: still.decode(f).symbols, False)
    emit(
        f"\n### hard held-out card frames (seed {HARD_SEED}; {len(cards)}: "
        f"{', '.join(HARD_SYMBOLOGIES)}; {describe(CALIBRATED)}), {len(empties)} empty frames "
        "of the same camera, "
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
            started, cpu = time.perf_counter(), time.thread_time()
            texts = [s.text for s in read(frame)]
            tally = per[name][symbology]
            tally.frames += 1
            tally.ms.append((time.perf_counter() - started) * 1000)
            tally.cpu_ms.append((time.thread_time() - cpu) * 1000)
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
    cpu_ms = {n: [m for t in per[n].values() for m in t.cpu_ms] for n in names}
    emit(row("the same in thread CPU ms", *(ms_cell(cpu_ms[n]) for n in names)))


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
    evidence = Evidence()
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
        size = (frames[index].shape[1], frames[index].shape[0])
        for symbol in symbols:
            if not evidence.confirms(symbol, now, size):
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
(evidence.py's rule for a linear code) that is not the card's text.

"""

NOTES = """
Reading of the 2026-12-02 run (x86_64, 2 cores shared with two other sessions, load average
3.6-6.6 while it ran: wall times are inflated, the hard frames' budget is counted in CPU
time, see below):
- Hard frames: the chain read 141 of 150 (94.0 %) against zxing-cpp's 104 (69.3 %) and
  pyzbar's 97 (64.7 %), with 0 wrong reads and 0 false reads on the 40 empty frames and the
  44 falsepositives-* photos. Its p50 per frame is no slower than zxing-cpp alone (5.9 vs
  6.5 ms wall, 3.6 vs 5.8 ms thread CPU): its first pass reads what zxing-cpp reads in
  about half the time, and only the frames it misses pay for the later steps (p95 38 ms).
  A first run at 03:45 (load 2.2-3.6) read the same 141, p50 5.6 vs 5.8 ms wall. Before
  (2026-12-01, the first set, the previous chain): chain 20.7 %, zxing-cpp 14.7 %, pyzbar
  14.0 %, chain p50 35.0 ms against zxing-cpp's 4.4 ms.
- Live clips: the chain reads 12 of 15 clips (7 on 2026-12-01), behind the idle gate too,
  with 0 wrong reports. Behind the gate an empty room costs 4 % of a core (thread CPU);
  without it 40 %: the new steps (enlarged textured regions, zxing-cpp with its retries)
  find bookshelves to try on every empty frame, which is what the gate is for. The first
  report's median is 0.00-0.01 s either way; the p95 of the 12 clips read (0.25 s behind
  the gate, 0.84 s without; 1.04 and 0.36 s in the first run) is the one hard clip read
  late, and swings between runs with the load, as the clips are decoded in real time.
- The hard frames are decoded one at a time with the chain's own step order and a 30 ms
  budget counted in the decoding thread's CPU time (`DecoderChain.cpu_budget`, bench
  only): counted in wall time, another session's load decided how many steps fitted
  (on seed 2101 the same chain read 80-92 of 100 from one run to the next). The kiosk
  counts wall time, on a machine of its own. Steps learn their cost in CPU time in both.

How the hard set was calibrated. The first generated set (2026-12-01) drew module
1.2-4 px uniformly, rotation +-35 deg, tilt 0-0.3, defocus sigma 0.3-1.6, motion blur
2-7 px in half the frames: zxing-cpp alone read 14.7 % of it, against 69.7 % on the
held-out webcam frames of issue 15, so it was no set "like the one above". Relaxing one
effect at a time (40 frames, seed 111, zxing-cpp alone): first set 17.5 %, rotation +-10
30 %, no motion blur 27.5 %, modules 2-4 px 30 %, defocus 0.2-0.8 20 %, tilt 0-0.1
17.5 %, no low light 17.5 %: rotation, motion and small modules dominated. With the milder
rotation, tilt, defocus and motion, reads by module size were 43 % (1.2-1.6 px), 40 %
(1.6-2), 53 % (2-2.5), 83 % (2.5-3), 97 % (3-4), which matches the issue's "misses
cluster near 2.4 px". The calibrated set (`CALIBRATED` in bench/hard_cards.py) keeps
every effect and range of the issue but draws the module size from a triangular
distribution over 1.2-4 px peaking at 3.2 px (a card held up to the kiosk at reading
distance, not at arm's length), rotation +-10 deg, tilt 0-0.12, defocus 0.2-0.9,
motion blur 1.5-3.5 px in a quarter of the frames; glare, uneven light, low light with
noise, JPEG 40-90 and the hand are as before. Calibrated on seed 3101 only (300 frames,
zxing-cpp alone): peak 3.0 px and motion 1.5-4 px 65.7 %, peak 3.3 px 68.0 %, the
chosen ranges 68.7 %. On the measured seed 5150 zxing-cpp alone reads 69.3 % and
pyzbar 64.7 % (issue's set: 69.7 % and 61.7 %).

How the chain was tuned, held out: on seeds 2101 and 2102 (100 frames each); the seed
measured above (5150) was run once, at the end. zxing-cpp's own options came first, on
the frames the previous chain missed on seed 2101 (23 of 100, an intermediate
calibration), zxing-cpp alone unless said, thread CPU ms p50:

| tried on the missed frames | read | ms |
|---|---:|---:|
| GlobalHistogram / FixedThreshold / BoolCast binariser | 0 / 0 / 0 of 23 | 2-4 |
| second scale 1.5x / 2x / 0.75x | 5 / 6 / 1 of 23 | 10.5 / 18.4 / 6.2 |
| unsharp mask / CLAHE on the frame | 2 / 1 of 23 | 7.0 / 11.0 |
| the previous deskewed crops (local / global binariser) | 3 / 2 of 23 | 11 |
| pyzbar on the deskewed crops | 0 of 20 | 29 |
| crops around gradient blobs, 2x / 3x (the blobs were mostly the scene) | 2 / 4 of 20 | 14 / 23 |
| WeChat on enlarged textured regions | 16 of 20 QR frames | 110 |

and on all 100 frames, zxing-cpp's first pass (its retries rotate by 90 deg and
downscale): default 67 read, 5.8 ms; `try_downscale` off 67, 4.6 ms; `try_rotate` off
67, 3.7 ms; both off 67, 2.9 ms. `is_pure` expects a generated image, not a camera frame.

What the chain does now (kiosk/terminal/scanner/chain.py, preprocessing.py, deblur.py), in order:
zxing-cpp without its retries (returns at once when it reads: most card frames); the
deskewed crops of bar-like regions, now sharpened, and found whole (a blurred symbol's
merged wide bars left a gap in the region mask, so half a code was cropped: closing the
mask raised the deskew step alone from 51 to 61 of the 80 linear frames); those crops'
bar profiles deconvolved for a motion blur of 2.5-4.5 px (Richardson-Lucy, 1 frame per
tuning seed); threefold enlargements, smoothed and sharpened, of small regions where
gradients run every way (a QR's modules: 17 of 20 QR frames against 13 for zxing-cpp
alone); zxing-cpp with its retries; then the previous steps (upscale of small images,
global binariser, pyzbar, WeChat, equalisation, inversion). On the tuning seeds the chain
read 92 and 87 of 100 (zxing-cpp alone 68 and 73), 0 wrong, 0 false.
"""


if __name__ == "__main__":
    raise SystemExit(main())
