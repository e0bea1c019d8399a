"""Journey benchmark: the real app under Xvfb with the real backend, a generated card video as
the camera, and the demo autopilot as the patron.

Reports: taps and seconds from card in view to credential for a returning member (with the
autopilot's reading pauses), time from card in view to greeting, the UI thread's own time per
frame (excluding the buffer swap and the clock's sleep), preview fps, decode cadence, and
resident memory over 200 keypad journeys; and a non-member signing the guest form on the name
keyboard (taps and seconds from Welcome to thanks).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1920, 1080
MEMORY_JOURNEYS = int(os.environ.get("KIOSK_BENCH_JOURNEYS", "200"))
NEWCOMER = "19000999"  # a member with no visits yet, typed on the keypad
NEWCOMER_BORN = "2001-05-21"  # her birth date: a typed number's internet needs it
# A non-member as a new user would sign: name and institution typed on the name keyboard.
GUEST = ("Rina Maharani", "SMA Negeri 1 Pangkalpinang")
GUEST_JOURNEYS = 2


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class TimedSource:
    """Wraps the video source: notes when the card comes into view, and the decoder's attempt
    count on every frame showing the card while the kiosk waits for one."""

    def __init__(self, source: Any, card_frames: range, length: int) -> None:
        self._source = source
        self._card_frames = card_frames
        self._length = length
        self._index = 0
        self.card_in_view: list[float] = []
        self.with_card: list[tuple[float, int]] = []  # (time, decode attempts so far)
        self.stats: Any = None
        self.waiting: Any = lambda: True

    def read(self) -> Any:
        frame = self._source.read()
        if frame is not None:
            position = self._index % self._length
            now = time.monotonic()
            if position == self._card_frames.start:
                self.card_in_view.append(now)
            if position in self._card_frames and self.stats is not None and self.waiting():
                self.with_card.append((now, self.stats.decodes))
            self._index += 1
        return frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    from kiosk.config import load_settings
    from kiosk.demo.display import start_xvfb
    from kiosk.demo.footage import Sequence, video_codec, write_card_video
    from kiosk.demo.launcher import demo_settings, start_backend, write_config
    from kiosk.demo.membercard import MemberCard
    from kiosk.ports import free_port
    from kiosk.terminal.ui.kivy_config import configure_kivy

    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    from kiosk.logs import setup_logging

    setup_logging(work / "log", "bench-journey")
    print(f"journey bench: log in {work / 'log'}", flush=True)
    display = start_xvfb(WIDTH, HEIGHT)
    os.environ["DISPLAY"] = display.display
    port = free_port()
    settings = demo_settings(load_settings(REPO / "config.toml"), port)
    settings = settings.with_overrides(
        kiosk={"data_dir": str(work / "kiosk"), "sound": False},
        backend={"database_url": f"sqlite:///{work / 'kiosk.db'}", "log_dir": str(work / "log")},
    )
    config = work / "config.toml"
    write_config(settings, config)
    backend = start_backend(config, port)
    # A first-time member for the keypad journey: added after the demo's seeded visits, so
    # the guestbook has no last answers for her.
    newcomer = work / "newcomer.csv"
    newcomer.write_text(
        "member_id,name,status,expires_on,institution,birth_date\n"
        f"{NEWCOMER},Dewi Lestari,active,2030-12-31,SMA Negeri 1 Pangkalpinang,{NEWCOMER_BORN}\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "kiosk", "members", "import", str(newcomer)]
        + ["--config", str(config)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # 30 fps like a USB webcam: 10 s of an empty scene, then the card held up for 3 s.
    sequence = Sequence(empty_before=300, entering=8, held=90, leaving=8, empty_after=30)
    video = write_card_video(work / f"card{video_codec()[1]}", [MemberCard()], sequence, fps=30)
    card_frames = range(
        sequence.empty_before, sequence.empty_before + sequence.entering + sequence.held
    )
    length = (
        sequence.empty_before
        + sequence.entering
        + sequence.held
        + sequence.leaving
        + sequence.empty_after
    )
    try:
        configure_kivy(work / "kivy", fullscreen=False, size=(WIDTH, HEIGHT), touch_devices=False)
        return run(settings, video, card_frames, length)
    finally:
        backend.terminate()
        backend.wait(timeout=10)
        display.stop()


class UiLoop:
    """Steps the Kivy loop by hand and keeps the UI thread's own time per pass: one loop pass
    minus the clock's sleep and the buffer swap."""

    def __init__(self) -> None:
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.core.window import Window

        self.event_loop = EventLoop
        self.spent = {"sleep": 0.0, "flip": 0.0}
        self.own_ms: list[float] = []
        self.flips = 0
        real_usleep, real_flip = Clock.usleep, Window.flip

        def usleep(microseconds: float) -> None:
            t = time.perf_counter()
            real_usleep(microseconds)
            self.spent["sleep"] += time.perf_counter() - t

        def flip() -> None:
            t = time.perf_counter()
            real_flip()
            self.spent["flip"] += time.perf_counter() - t

        Clock.usleep = usleep
        Window.flip = flip

    def step(self) -> None:
        self.spent["sleep"] = self.spent["flip"] = 0.0
        t = time.perf_counter()
        self.event_loop.idle()
        total = time.perf_counter() - t
        if self.spent["flip"]:
            self.flips += 1
            self.own_ms.append((total - self.spent["sleep"] - self.spent["flip"]) * 1000)

    def until(self, condition: Any, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not condition():
            self.step()


def run(settings: Any, video: Path, card_frames: range, length: int) -> int:
    from kiosk.terminal.services import build_services
    from kiosk.terminal.ui.app import KioskApp
    from kiosk.terminal.ui.autopilot import Autopilot

    services = build_services(settings, str(video))
    timed = TimedSource(services.scanner.source, card_frames, length)
    services.scanner.source = timed
    app = KioskApp(settings, services)
    pilot = Autopilot(app, journeys=10**6, exit_when_done=False, switch_language=False)
    pilot.install()
    loop = UiLoop()
    app._run_prepare()
    timed.stats = services.scanner.stats
    timed.waiting = lambda: app.flow.state.value == "idle"

    idle = measure_idle(app, services, timed, loop)
    # Three journeys by camera with the autopilot's reading pauses: the first is a new
    # member (answers the guestbook), the next two a returning member.
    loop.until(lambda: pilot.done >= 3, 300)
    journeys = split_journeys(list(app.journey_log), timed.card_in_view, pilot.tap_times)
    cadence = card_cadence(timed.with_card)
    keypad = measure_keypad(app, services, pilot, loop)
    guests = measure_guests(app, pilot, loop)
    rss_start, rss_end, memory_journeys = measure_memory(app, pilot, loop)

    app.dispatch("on_stop")
    report(journeys, idle, cadence, rss_start, rss_end, memory_journeys)
    print(
        f"first-time member on the keypad (Welcome -> credential on screen, reading pauses): "
        f"{keypad['seconds']:.1f} s, taps {keypad['taps']:.0f}"
    )
    report_guests(guests)
    sys.stdout.flush()  # before Xvfb goes: Xlib ends the process without flushing
    returning = journeys[1:]
    ok = (
        bool(returning)
        and all(j["to_credentials"] < 20 and j["taps"] <= 3 for j in returning)
        and rss_end - rss_start < 20
        and keypad["seconds"] < 60
        and len(guests) == GUEST_JOURNEYS
        and all(g["seconds"] < 45 for g in guests)
    )
    return 0 if ok else 1


def measure_idle(app: Any, services: Any, timed: TimedSource, loop: UiLoop) -> dict[str, Any]:
    """Welcome with the live preview and the decoder running, no card yet."""
    loop.until(lambda: app.manager.current == "welcome", 10)
    loop.own_ms.clear()
    loop.flips = 0
    shown_before = app.screens["welcome"].camera.frames_shown
    started = time.monotonic()
    loop.until(lambda: bool(timed.card_in_view), 30)
    idle_seconds = time.monotonic() - started
    return {
        "own_ms": list(loop.own_ms),
        "fps": loop.flips / idle_seconds,
        "shown": (app.screens["welcome"].camera.frames_shown - shown_before) / idle_seconds,
        "blit_ms": statistics.median(app.frame_ms) if app.frame_ms else float("nan"),
        "decode_rate": services.scanner.stats.decode_rate,
        "decode_ms": services.scanner.stats.last_decode_ms,
    }


def restart_pilot(app: Any, pilot: Any) -> None:
    """Back to Welcome, the autopilot reading the screen afresh."""
    app.flow.reset()
    pilot._screen = ""
    pilot._screen_changed()


def measure_keypad(app: Any, services: Any, pilot: Any, loop: UiLoop) -> dict[str, float]:
    """A first-time member on the keypad, with the reading pauses: from Welcome (she taps
    "Ketik nomor anggota") to her credential on screen."""
    services.scanner.debounce_seconds = 3600.0  # the looping card must not start journeys now
    pilot.use_keypad, pilot.member, pilot.birth_date = True, NEWCOMER, "21052001"
    keypad_start = time.monotonic()
    restart_pilot(app, pilot)
    loop.until(lambda: pilot.done >= 4, 120)
    keypad_end = next(
        (t for t, state in app.journey_log if t > keypad_start and state == "credentials"), None
    )
    return {
        "seconds": (keypad_end - keypad_start) if keypad_end else float("nan"),
        "taps": float(sum(1 for t in pilot.tap_times if keypad_start <= t <= (keypad_end or 0))),
    }


def measure_guests(app: Any, pilot: Any, loop: UiLoop) -> list[dict[str, float]]:
    """A non-member with the reading pauses: "Bukan anggota?", the guest form typed key by
    key on the name keyboard, the first choice of each field, Kirim."""
    pilot.guest = GUEST
    before = pilot.done
    restart_pilot(app, pilot)
    loop.until(lambda: pilot.done >= before + GUEST_JOURNEYS, 70 * GUEST_JOURNEYS)
    guests = split_guest_journeys(list(app.journey_log), pilot.tap_times)
    pilot.guest = None
    return guests


def measure_memory(app: Any, pilot: Any, loop: UiLoop) -> tuple[float, float, int]:
    """Resident memory over many journeys: keypad path, short pauses, camera preview live."""
    pilot.pause_scale, pilot.member, pilot.birth_date = 0.03, NEWCOMER, "21052001"
    restart_pilot(app, pilot)
    warm = pilot.done + 10
    loop.until(lambda: pilot.done >= warm, 120)  # warm up
    rss_start = rss_mb()
    loop.until(lambda: pilot.done >= warm + MEMORY_JOURNEYS, 1500)
    return rss_start, rss_mb(), pilot.done - warm


def card_cadence(samples: list[tuple[float, int]]) -> float:
    """Decode attempts per second while a card was in view and the kiosk waited for one."""
    rates = []
    run: list[tuple[float, int]] = []
    for sample in [*samples, (float("inf"), 0)]:
        if run and sample[0] - run[-1][0] > 0.5:
            if len(run) > 1 and run[-1][0] > run[0][0]:
                rates.append((run[-1][1] - run[0][1]) / (run[-1][0] - run[0][0]))
            run = []
        run.append(sample)
    return statistics.median(rates) if rates else float("nan")


def split_journeys(
    log: list[tuple[float, str]], card_times: list[float], tap_times: list[float]
) -> list[dict[str, float]]:
    """For each journey that reached the credentials: seconds from the card coming into view
    to the greeting (guestbook) and to the credential on screen, and the taps in between."""
    results = []
    greeting = None
    welcome_since = 0.0  # a card held up while another patron's screen shows waits for Welcome
    for moment, state in log:
        if state == "guestbook" and greeting is None:
            greeting = moment
        elif state == "credentials" and greeting is not None:
            before = [t for t in card_times if t <= greeting]
            if before:
                start = max(before[-1], welcome_since)
                results.append(
                    {
                        "to_greeting": greeting - start,
                        "to_credentials": moment - start,
                        "taps": float(sum(1 for t in tap_times if start <= t <= moment)),
                    }
                )
            greeting = None
        elif state == "idle":
            greeting = None
            welcome_since = moment
    return results


def split_guest_journeys(
    log: list[tuple[float, str]], tap_times: list[float]
) -> list[dict[str, float]]:
    """For each guest journey: seconds from Welcome on screen (the patron arriving) to the
    thanks or the voucher on screen, and the taps in between."""
    results = []
    welcome_since, on_form = 0.0, False
    for moment, state in log:
        if state == "idle":
            welcome_since, on_form = moment, False
        elif state == "guest":
            on_form = True
        elif state in ("thanks", "credentials") and on_form:
            taps = sum(1 for t in tap_times if welcome_since <= t <= moment)
            results.append({"seconds": moment - welcome_since, "taps": float(taps)})
            on_form = False
    return results


def report_guests(guests: list[dict[str, float]]) -> None:
    name, institution = GUEST
    typed = len(name) + len(institution)
    print(f"guest journeys ({name!r}, {institution!r}: {typed} characters on the keyboard):")
    for g in guests:
        print(f"  Welcome on screen -> thanks on screen {g['seconds']:.1f} s, taps {g['taps']:.0f}")


def report(
    journeys: list[dict[str, float]],
    idle: dict[str, Any],
    cadence: float,
    rss_start: float,
    rss_end: float,
    memory_journeys: int,
) -> None:
    print(f"journeys by camera: {len(journeys)} (first: new member; then returning)")
    for i, j in enumerate(journeys):
        kind = "new" if i == 0 else "returning"
        print(
            f"  {kind:9} card in view -> greeting {j['to_greeting']:.2f} s, "
            f"-> credential on screen {j['to_credentials']:.1f} s, taps {j['taps']:.0f}"
        )
    own = idle["own_ms"]
    print(
        f"Welcome with live preview: UI thread own time per drawn frame (excl. swap and sleep) "
        f"p50 {statistics.median(own):.2f} ms, p95 {percentile(own, 0.95):.2f} ms "
        f"({len(own)} frames); blit p50 {idle['blit_ms']:.2f} ms"
    )
    print(
        f"  {idle['fps']:.1f} frames drawn/s, {idle['shown']:.1f} camera frames shown/s; "
        f"decoder on empty frames {idle['decode_rate']:.1f} attempts/s "
        f"({idle['decode_ms']:.1f} ms each)"
    )
    print(f"decode cadence with a card in view: {cadence:.1f} attempts/s")
    print(
        f"memory: RSS {rss_start:.0f} MB -> {rss_end:.0f} MB over {memory_journeys} journeys "
        f"({rss_end - rss_start:+.1f} MB)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
