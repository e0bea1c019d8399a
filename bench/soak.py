"""Soak: 1,000 patron journeys through the client and the outbox while the real backend is
unavailable about 10% of the time; zero lost or duplicated visits, memory flat.

Two kiosks (threads, each with its own client, outbox file and background sender) play
journeys back to back; a chaos thread pauses (SIGSTOP), stops (SIGTERM) or kills (SIGKILL)
the backend and brings it back. Figures go to the "Soak" section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import write_section
from kiosk import protocol
from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient, BackendRejected, BackendUnreachable
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.outbox_sender import OutboxSender

REPO = Path(__file__).resolve().parents[1]
# The shared test helper runs the real backend as a subprocess; appended, not prepended, so
# tests/kiosk/ can never shadow the kiosk package.
sys.path.append(str(REPO / "tests"))
from support.backend_server import DEMO_MEMBERS, BackendServer  # noqa: E402

JOURNEYS = int(os.environ.get("KIOSK_SOAK_JOURNEYS", "1000"))
KIOSKS = 2
DOWN_SHARE = 0.10
SEED = int(os.environ.get("KIOSK_SOAK_SEED", "20261128"))
ANSWERS = [
    {"purpose": "internet", "occupation": "mahasiswa", "education": "s1"},
    {"purpose": "membaca", "occupation": "pelajar", "education": "sma"},
    {"purpose": "penelitian", "occupation": "pns", "education": "s2", "institution": "Bappeda"},
]
UNKNOWN_CARDS = ["19009999", "19008888"]
GUESTBOOK_SECONDS = (0.2, 0.5)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def demo_cards() -> list[str]:
    lines = DEMO_MEMBERS.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",")[0] for line in lines if line.strip()]


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    expected: set[str] = field(default_factory=set)
    # An unknown card whose lookup found the backend down still signs the guestbook; the
    # backend refuses that visit later (404), and it must then be a dead letter, not lost.
    expected_dead: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, client_ref: str | None = None, *, dead: bool = False) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            if client_ref is not None:
                (self.expected_dead if dead else self.expected).add(client_ref)


class Chaos(threading.Thread):
    """Keeps the backend unavailable about DOWN_SHARE of the wall time, in random outages."""

    def __init__(self, server: BackendServer, rng: random.Random) -> None:
        super().__init__(name="chaos", daemon=True)
        self.server = server
        self.rng = rng
        self.done = threading.Event()
        self.down_seconds = 0.0
        self.started_at = time.monotonic()
        self.outages: Counter[str] = Counter()
        self.ended_at: float | None = None

    def run(self) -> None:
        while not self.done.wait(self._next_up()):
            kind = self.rng.choices(["pause", "stop", "kill"], weights=[6, 2, 2])[0]
            began = time.monotonic()
            if kind == "pause":
                self.server.pause()
                self.done.wait(self.rng.uniform(0.3, 2.0))
                self.server.resume()
            else:
                if kind == "stop":
                    self.server.stop()
                else:
                    self.server.kill()
                self.done.wait(self.rng.uniform(0.2, 1.5))
                self.server.start()  # returns once /health answers
            self.down_seconds += time.monotonic() - began
            self.outages[kind] += 1
        self.ended_at = time.monotonic()

    def _next_up(self) -> float:
        # Aim the running share of down time at DOWN_SHARE, with a random spread.
        elapsed = time.monotonic() - self.started_at
        owed = self.down_seconds / DOWN_SHARE - elapsed
        return max(0.5, owed) * self.rng.uniform(0.6, 1.4) + self.rng.uniform(0.5, 4.0)

    @property
    def share(self) -> float:
        elapsed = (self.ended_at or time.monotonic()) - self.started_at
        return self.down_seconds / elapsed if elapsed else 0.0


def journey(
    client: BackendClient,
    outbox: Outbox,
    sender: OutboxSender,
    card: str,
    kiosk_id: str,
    rng: random.Random,
    tally: Tally,
) -> None:
    """One patron as the flow plays it: lookup, guestbook, check-in; the outbox when the
    backend cannot be reached."""
    answers = rng.choice(ANSWERS)
    try:
        client.lookup(card)
    except BackendRejected as exc:
        if exc.code == protocol.ErrorCode.member_not_found:
            tally.add("unknown card: no visit")
            return
        raise
    except BackendUnreachable:
        tally.add("lookup unreachable (guestbook kept)")
    # The patron reading and tapping the guestbook, compressed ~100x: it spreads the
    # journeys over the outages instead of racing through them.
    time.sleep(rng.uniform(*GUESTBOOK_SECONDS))
    request = protocol.CheckinRequest(
        client_ref=uuid.uuid4(),
        card=card,
        answers=answers,
        want_internet=rng.random() < 0.8,
        kiosk_id=kiosk_id,
        occurred_at=dt.datetime.now(dt.UTC),
    )
    ref = str(request.client_ref)
    visit = protocol.VisitRequest.model_validate(request.model_dump())
    try:
        client.checkin(request)
        tally.add("checked in online", ref)
        sender.wake()  # the backend answers: send what waits
        return
    except BackendRejected as exc:
        if exc.code == protocol.ErrorCode.member_not_found:
            # Its lookup had found the backend down; the check-in finds it up again.
            tally.add("unknown card at check-in: no visit")
            return
        if exc.code not in (protocol.ErrorCode.member_expired, protocol.ErrorCode.member_blocked):
            raise
        # No credential, but a visit is a visit: same body to /visits (nothing was recorded).
        tally.add("403, visit sent", ref)
    except BackendUnreachable:
        outbox.put(visit)
        if card in UNKNOWN_CARDS:
            tally.add("check-in unreachable: outbox (unknown card)", ref, dead=True)
        else:
            tally.add("check-in unreachable: outbox", ref)
        return
    try:
        client.send_visit(visit)
    except BackendUnreachable:
        outbox.put(visit)
        tally.add("visit unreachable: outbox")


@dataclass
class Phases:
    """Every kiosk finishes its journeys, then the chaos stops, then the outboxes drain."""

    journeys_done: threading.Barrier
    backend_steady: threading.Barrier


def kiosk_loop(
    index: int,
    server: BackendServer,
    workdir: Path,
    count: int,
    cards: list[str],
    tally: Tally,
    rss_samples: list[tuple[int, int]],
    errors: list[BaseException],
    phases: Phases,
) -> None:
    rng = random.Random(SEED + index)
    kiosk_id = f"kiosk-soak-{index}"
    settings = KioskSettings(
        backend_url=server.base_url,
        api_token=server.token,
        kiosk_id=kiosk_id,
        connect_timeout=0.5,
        read_timeout=1.0,
    )
    client = BackendClient(settings)
    outbox = Outbox(workdir / f"outbox-{index}.sqlite")
    sender = OutboxSender(outbox, client, interval=2.0, base_delay=0.5, max_delay=4.0)
    sender.start()
    try:
        for n in range(count):
            card = rng.choice(UNKNOWN_CARDS) if rng.random() < 0.03 else rng.choice(cards)
            journey(client, outbox, sender, card, kiosk_id, rng, tally)
            if index == 0 and (n + 1) % 50 == 0:
                rss_samples.append((KIOSKS * (n + 1), rss_kib()))
    except BaseException as exc:  # reported by main(); the soak must not hang on it
        errors.append(exc)
    finally:
        sender.stop(timeout=5.0)
        phases.journeys_done.wait()
        phases.backend_steady.wait()
    drained = drain_outbox(outbox, client)
    with tally.lock:
        tally.outcomes["left in outbox after drain"] += outbox.pending_count()
        tally.dead.update(e.client_ref for e in outbox.dead_letters())
        tally.outcomes["sent by the outbox"] += sender.sent + drained
    outbox.close()
    client.close()


def drain_outbox(outbox: Outbox, client: BackendClient, seconds: float = 120.0) -> int:
    """Send what the outbox still holds, pass after pass, for up to `seconds`; how many."""
    drain = OutboxSender(outbox, client, base_delay=0.2, max_delay=1.0)
    deadline = time.monotonic() + seconds
    while outbox.pending_count() and time.monotonic() < deadline:
        drain.wake()
        drain.send_due()
        if outbox.pending_count():
            time.sleep(0.2)  # backoff between drain passes
    return drain.sent


def recorded(server: BackendServer) -> Counter[str]:
    with sqlite3.connect(server.database_path) as db:
        return Counter(row[0] for row in db.execute("SELECT client_ref FROM visits"))


def main() -> int:
    logging.basicConfig(level=logging.CRITICAL)  # thousands of expected failures: no noise
    rng = random.Random(SEED)
    cards = demo_cards()
    tally = Tally()
    rss_samples: list[tuple[int, int]] = [(0, rss_kib())]
    errors: list[BaseException] = []
    phases = Phases(threading.Barrier(KIOSKS + 1), threading.Barrier(KIOSKS + 1))
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        workdir = Path(tmp)
        server = BackendServer(workdir / "backend")
        try:
            chaos = Chaos(server, rng)
            started = time.monotonic()
            chaos.start()
            threads = [
                threading.Thread(
                    target=kiosk_loop,
                    args=(i, server, workdir, JOURNEYS // KIOSKS, cards, tally, rss_samples),
                    kwargs={"errors": errors, "phases": phases},
                    name=f"kiosk-{i}",
                )
                for i in range(KIOSKS)
            ]
            for t in threads:
                t.start()
            phases.journeys_done.wait()
            journeys_time = time.monotonic() - started
            chaos.done.set()
            chaos.join(60)
            server.resume()
            if not server.running:
                server.start()
            phases.backend_steady.wait()
            for t in threads:
                t.join()
            drain_time = time.monotonic() - started - journeys_time
            counts = recorded(server)
        finally:
            server.stop()
    if errors:
        for exc in errors:
            print(f"soak: a kiosk failed: {exc!r}", file=sys.stderr)
        return 1
    return report(tally, counts, chaos, (journeys_time, drain_time), rss_samples)


def tally_total(tally: Tally) -> int:
    journey_outcomes = (
        "unknown card: no visit",
        "checked in online",
        "403, visit sent",
        "check-in unreachable: outbox",
        "check-in unreachable: outbox (unknown card)",
        "unknown card at check-in: no visit",
    )
    with tally.lock:
        return sum(tally.outcomes[o] for o in journey_outcomes)


def report(
    tally: Tally,
    counts: Counter[str],
    chaos: Chaos,
    times: tuple[float, float],
    rss_samples: list[tuple[int, int]],
) -> int:
    expected = tally.expected
    lost = expected - set(counts)
    extra = set(counts) - expected
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    journeys = tally_total(tally)
    warm = [kib for n, kib in rss_samples if n >= 100] or [rss_samples[-1][1]]
    rss_start, rss_end, rss_max = warm[0], rss_samples[-1][1], max(kib for _, kib in rss_samples)
    dead_right = tally.dead == tally.expected_dead
    ok = (
        not lost
        and not extra
        and not duplicated
        and dead_right
        and not tally.outcomes["left in outbox after drain"]
    )
    outages = ", ".join(f"{n} {kind}" for kind, n in sorted(chaos.outages.items()))
    rows = [
        ("journeys", f"{journeys}"),
        ("wall time", f"{times[0]:.0f} s of journeys, then {times[1]:.1f} s to drain the outboxes"),
        ("backend unavailable", f"{chaos.share:.1%} of the time ({outages})"),
        *((name, str(n)) for name, n in sorted(tally.outcomes.items())),
        ("visits expected", str(len(expected))),
        ("visits in backend database", str(sum(counts.values()))),
        ("lost", str(len(lost))),
        ("duplicated", str(duplicated)),
        ("unexpected", str(len(extra))),
        (
            "dead letters",
            f"{len(tally.dead)} ({len(tally.expected_dead)} expected: unknown cards queued while "
            f"the backend was down; {'the same ones' if dead_right else 'NOT the same ones'})",
        ),
        (
            "RSS of the driving process",
            f"{rss_start / 1024:.1f} MiB after 100 journeys -> {rss_end / 1024:.1f} MiB at the "
            f"end (max {rss_max / 1024:.1f}; {rss_samples[0][1] / 1024:.1f} before the first)",
        ),
    ]
    table = "| figure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    verdict = "**passed**" if ok else "**FAILED**"
    text = f"""## Soak

`make bench` (or `.venv/bin/python -m bench soak`): {journeys} patron journeys through
`kiosk/terminal/client.py` and `kiosk/terminal/outbox.py` from {KIOSKS} kiosks (threads; each
its own client, outbox file and background sender; connect/read timeouts 0.5 s / 1 s). A
journey: lookup, then check-in (80% want internet); a 403 for an expired or blocked member sends
the same body to `/visits`; an unreachable backend puts the entry in the outbox. About 3% of
cards are unknown (no visit); {GUESTBOOK_SECONDS[0]}-{GUESTBOOK_SECONDS[1]} s of guestbook time
per journey (a patron's ~20 s compressed). Meanwhile the real `kiosk backend` (SQLite, demo
members) is made unavailable about {DOWN_SHARE:.0%} of the wall time: paused (SIGSTOP:
connections accepted, never answered), stopped (SIGTERM) or killed (SIGKILL), then brought back.
At the end the outboxes are drained and the backend's `visits` table is compared with the
client_refs of every journey that should have left a visit. {os.cpu_count()} cores
({platform.processor() or platform.machine()}), Python {platform.python_version()},
{dt.date.today().isoformat()}, seed {SEED}.

{table}
Zero lost, zero duplicated: {verdict}.
"""
    if "KIOSK_SOAK_JOURNEYS" not in os.environ:  # a shortened trial run is not the record
        write_section(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
