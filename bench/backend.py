"""Backend load: check-ins one after another (latency, server CPU per check-in), 100/s for
60 s (p50/p99), then the highest rate with p99 < 200 ms.

SQLite, loopback, the real `kiosk backend` process; the load generator runs in a separate
process and schedules requests open-loop (latency counts from the planned send time, so a
slow server cannot hide its queue). `KIOSK_BENCH_BASELINE=<git revision>` runs the same
bench against that revision too (a temporary git worktree), interleaved with this tree, so
the two are measured side by side on the same machine in one run. Figures go to the
"Backend" section of docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import write_section
from kiosk.ports import free_port

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdef"
MEMBERS = 20_000
FIXED_RATE = 100.0
FIXED_SECONDS = float(os.environ.get("KIOSK_BENCH_FIXED_SECONDS", "60"))
STEP_SECONDS = 15.0
STEP_RATES = [100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 800, 1000]
SEQUENTIAL = 1000  # check-ins one after another, for latency without queueing and CPU
P99_LIMIT_MS = 200.0
GENERATOR_THREADS = 32
JAKARTA = dt.timezone(dt.timedelta(hours=7))
# 403 is the right answer for the generated blocked and expired members.
ANSWERED = ("200", "201", "403")


@dataclass
class LoadResult:
    offered_rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    load_average: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code not in ANSWERED)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]

    @property
    def error_summary(self) -> str:
        failed = sorted((k, n) for k, n in self.statuses.items() if k not in ANSWERED)
        return "0" if not failed else ", ".join(f"{n} x {k}" for k, n in failed)

    def sustained(self) -> bool:
        return (
            self.percentile(99) <= P99_LIMIT_MS
            and not self.errors
            and self.achieved_rate >= 0.95 * self.offered_rate
        )

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0


# ---------------------------------------------------------------- load generator process


def _check_in_body(rng: random.Random) -> dict[str, Any]:
    member = 19_100_000 + rng.randrange(MEMBERS)
    return {
        "client_ref": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "card": str(member),
        "answers": {
            "purpose": rng.choice(["internet", "membaca", "penelitian"]),
            "education": "s1",
        },
        "want_internet": rng.random() < 0.7,
        "kiosk_id": f"kiosk-{rng.randrange(300):03d}",
        "occurred_at": dt.datetime.now(JAKARTA).isoformat(),
    }


def generate_load(url: str, rate: float, seconds: float, seed: int, out: Any) -> None:
    """Runs in its own process: send `rate` check-ins a second for `seconds`, open loop."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    bodies = [_check_in_body(rng) for _ in range(total)]
    work: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    # Several instances: "URL|URL|..."; each generator thread keeps to one of them.
    targets = [urllib.parse.urlsplit(u) for u in url.split("|")]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def worker(parts: urllib.parse.SplitResult) -> None:
        # http.client, not requests: the generator shares the CPUs with the server and
        # must cost as little as possible per request.
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while True:
            item = work.get()
            if item is None:
                connection.close()
                return
            planned, body = item
            try:
                connection.request("POST", parts.path, body=json.dumps(body), headers=headers)
                response = connection.getresponse()
                response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                code = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            done = time.perf_counter()
            with lock:
                statuses[code] = statuses.get(code, 0) + 1
                if code in ANSWERED:
                    latencies.append((done - planned) * 1000)

    threads = [
        threading.Thread(target=worker, args=(targets[n % len(targets)],), daemon=True)
        for n in range(GENERATOR_THREADS)
    ]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.2
    for index, body in enumerate(bodies):
        planned = start + index / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # pacing the offered load: the schedule is the point
        work.put((planned, body))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    out.put({"latencies": latencies, "statuses": statuses, "elapsed": time.perf_counter() - start})


def run_load(url: str, rate: float, seconds: float, seed: int) -> LoadResult:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=generate_load, args=(url, rate, seconds, seed, out))
    process.start()
    data = out.get(timeout=seconds + 120)
    process.join(timeout=30)
    return LoadResult(
        rate, seconds, data["latencies"], data["statuses"], data["elapsed"], os.getloadavg()[0]
    )


# ---------------------------------------------------------------- the server


class Server:
    def __init__(
        self,
        directory: Path,
        workers: int,
        database_url: str | None = None,
        import_members: bool = True,
        repo: Path = REPO,
    ) -> None:
        import tomlkit

        self.repo = repo
        self.directory = directory
        self.port = free_port()
        self.workers = workers
        self.config = directory / "config.toml"
        settings = {
            "cards": {"pattern": r"(?P<start>[A-D])?(?P<id>19\d{6})(?(start)[A-D])"},
            "backend": {
                "database_url": database_url or f"sqlite:///{directory / 'kiosk.db'}",
                "api_tokens": [TOKEN],
                "port": self.port,
                "rate_limit_per_minute": 10_000_000,
                "log_dir": str(directory / "log"),
                "workers": workers,
            },
        }
        self.config.write_text(tomlkit.dumps(settings), encoding="utf-8")
        if import_members:
            members = directory / "members.csv"
            with members.open("w", encoding="utf-8") as out:
                out.write("member_id,name,status,expires_on,institution\n")
                for i in range(MEMBERS):
                    status = "blocked" if i % 97 == 0 else "active"
                    expires = "2024-12-31" if i % 13 == 0 else "2099-12-31"
                    out.write(f"{19_100_000 + i},Anggota {i},{status},{expires},SMAN 1\n")
            self._kiosk("members", "import", str(members))
        self.process: subprocess.Popen[bytes] | None = None

    def _kiosk(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(self.repo)}
        subprocess.run(
            [sys.executable, "-m", "kiosk", *args, "--config", str(self.config)],
            check=True,
            cwd=self.directory,
            env=env,
            capture_output=True,
        )

    def start(self) -> str:
        import requests

        env = {**os.environ, "PYTHONPATH": str(self.repo)}
        log = (self.directory / "server.out").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "backend", "--config", str(self.config)],
            cwd=self.directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        base = f"http://127.0.0.1:{self.port}/api/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    return base
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("backend did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its workers so far (Linux /proc)."""
        assert self.process is not None
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0.0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


@dataclass
class Sequential:
    """Check-ins sent one after another on one connection: no queue, so the latency is
    the server's own, and its CPU per check-in is what bounds the rate it can sustain."""

    latencies_ms: list[float]
    cpu_ms: float
    load_average: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]

    @property
    def ceiling(self) -> float:
        """Check-ins a second one core could serve at this CPU cost."""
        return 1000.0 / self.cpu_ms if self.cpu_ms else float("nan")


def run_sequential(url: str, server: Server, count: int, seed: int) -> Sequential:
    rng = random.Random(seed)
    bodies = [json.dumps(_check_in_body(rng)) for _ in range(count)]
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    cpu_before = server.cpu_seconds()
    for body in bodies:
        started = time.perf_counter()
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if str(response.status) not in ANSWERED:
            raise RuntimeError(f"sequential check-in answered {response.status}")
        latencies.append((time.perf_counter() - started) * 1000)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / count
    connection.close()
    return Sequential(latencies, cpu_ms, os.getloadavg()[0])


# ---------------------------------------------------------------- report


def _row(label: str, result: LoadResult) -> str:
    return (
        f"| {label} | {result.offered_rate:.0f} | {result.achieved_rate:.0f} | {result.sent} | "
        f"{result.percentile(50):.1f} | {result.percentile(99):.1f} | "
        f"{max(result.latencies_ms, default=float('nan')):.0f} | {result.error_summary} | "
        f"{result.load_average:.1f} |"
    )


@dataclass
class WorkerRun:
    workers: int
    fixed: LoadResult
    steps: list[LoadResult]
    sequential: list[Sequential] = field(default_factory=list)
    label: str = ""

    @property
    def best(self) -> float:
        return max((s.offered_rate for s in self.steps if s.sustained()), default=0.0)

    @property
    def goal(self) -> str:
        met = self.fixed.percentile(99) < 50 and not self.fixed.errors
        return "met" if met else "NOT met"


WARM_UP_SECONDS = 5.0


def fixed_and_steps(url: str, label: str) -> tuple[LoadResult, list[LoadResult]]:
    """The fixed 100/s run, then rising steps until one fails twice; `url` may list several
    instances ("URL|URL")."""
    # Warm-up at the fixed rate: imports, the page cache, and as many pooled database
    # connections as that rate keeps busy (at 20/s a PostgreSQL instance opened two, and
    # the first seconds of the fixed run then paid for opening the rest).
    run_load(url, FIXED_RATE, WARM_UP_SECONDS, seed=1)
    fixed = run_load(url, FIXED_RATE, FIXED_SECONDS, seed=2)
    print(_row(f"{label}, fixed", fixed), flush=True)
    steps: list[LoadResult] = []
    for index, rate in enumerate(STEP_RATES):
        result = run_load(url, rate, STEP_SECONDS, seed=10 + index)
        steps.append(result)
        print(_row(f"{label}, step", result), flush=True)
        if not result.sustained():
            # Once more: on a shared machine one burst of other work can spoil a step; a
            # rate counts as sustained if either try holds.
            result = run_load(url, rate, STEP_SECONDS, seed=100 + index)
            steps.append(result)
            print(_row(f"{label}, step again", result), flush=True)
            if not result.sustained():
                break
    return fixed, steps


def bench_workers(workers: int, repo: Path = REPO, label: str = "") -> WorkerRun:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        server = Server(Path(tmp), workers, repo=repo)
        base = server.start()
        try:
            run_sequential(f"{base}/checkins", server, 200, seed=3)  # warm-up
            sequential = [
                run_sequential(f"{base}/checkins", server, SEQUENTIAL, seed=4 + n) for n in range(2)
            ]
            fixed, steps = fixed_and_steps(f"{base}/checkins", f"{label}{workers} worker(s)")
        finally:
            server.stop()
    return WorkerRun(workers, fixed, steps, sequential, label)


@contextlib.contextmanager
def trees_to_measure(baseline: str) -> Iterator[list[tuple[Path, str]]]:
    """(tree, label) to run side by side: this tree, and before it, when `baseline` names a
    revision, that revision in a temporary git worktree (removed afterwards). Labels are
    "<revision>: " with a baseline, empty without."""
    if not baseline:
        yield [(REPO, "")]
        return
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-baseline-") as tmp:
        old = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(old), baseline],
            check=True,
            capture_output=True,
        )
        try:
            yield [(old, f"{_revision(old)}: "), (REPO, f"{_revision(REPO)}: ")]
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)],
                check=False,
                capture_output=True,
            )


def _sequential_row(run: WorkerRun) -> str:
    cells = " | ".join(
        f"{s.percentile(50):.2f} / {s.percentile(99):.1f} / {s.cpu_ms:.2f} / {s.ceiling:.0f}"
        for s in run.sequential
    )
    load = max(s.load_average for s in run.sequential)
    return f"| {run.label}{run.workers} worker(s) | {cells} | {load:.1f} |"


def main() -> int:
    counts = [int(n) for n in os.environ.get("KIOSK_BENCH_WORKERS", "1,2").split(",")]
    baseline = os.environ.get("KIOSK_BENCH_BASELINE", "")
    load_before = os.getloadavg()[0]
    runs: list[WorkerRun] = []
    with trees_to_measure(baseline) as trees:
        for workers in counts:
            for tree, label in trees:  # interleaved: baseline, this tree, next count
                runs.append(bench_workers(workers, tree, label))
    cpu = platform.processor() or platform.machine()
    today = dt.date.today().isoformat()
    rows = "".join(
        _row(f"{run.label}{run.workers} worker(s), fixed {FIXED_SECONDS:.0f} s", run.fixed)
        + "\n"
        + "".join(
            _row(f"{run.label}{run.workers} worker(s), step {STEP_SECONDS:.0f} s", s) + "\n"
            for s in run.steps
        )
        for run in runs
    )
    sequential_rows = "".join(_sequential_row(run) + "\n" for run in runs)
    summary = "".join(
        f"""- {run.label}{run.workers} worker(s): fixed {FIXED_RATE:.0f}/s:
  p50 {run.fixed.percentile(50):.1f} ms, p99 {run.fixed.percentile(99):.1f} ms,
  {run.fixed.errors} errors (goal p99 < 50 ms, no errors: **{run.goal}**);
  highest sustained rate **{run.best:.0f} check-ins/s**.
"""
        for run in runs
    )
    text = f"""## Backend

`make bench` (or `.venv/bin/python -m bench backend`; `KIOSK_BENCH_WORKERS=1,2` picks the
uvicorn worker counts, `KIOSK_BENCH_BASELINE=<revision>` measures that revision beside this
one): the real `kiosk backend` on SQLite (WAL), loopback; {MEMBERS:,}
members, check-ins for random members with `want_internet` 70% of the time (so new
credentials, reuses, and some 403s for blocked/expired members: 403 is a right answer here,
not an error). Server and generator share one machine:
{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, uvicorn with httptools
(`kiosk/backend/api/connections.py`) and asyncio, {today}; load average {load_before:.1f}
before the run.

**One after another** ({SEQUENTIAL:,} check-ins on one keep-alive connection, twice, after
200 to warm up): latency p50 / p99 in ms, the server's CPU per check-in in ms (user +
system, all its processes, from /proc), and the rate one core could serve at that cost.

| server | first 1,000: p50 / p99 / CPU / ceiling /s | second 1,000 | load |
|---|---|---|---|
{sequential_rows}
**Under load**: the load generator is a separate process ({GENERATOR_THREADS} threads,
`http.client` keep-alive) sending open-loop on a fixed schedule; latency counts from the
planned send time, so queueing shows. Steps of {STEP_SECONDS:.0f} s raise the rate until p99
passes {P99_LIMIT_MS:.0f} ms, an error appears or less than 95% of the offered load gets
through; a step that fails is tried once more before the run stops. `load` is the 1-minute
load average at the end of each run.

| run | offered /s | achieved /s | requests | p50 ms | p99 ms | max ms | errors | load |
|---|---|---|---|---|---|---|---|---|
{rows}
{summary}"""
    write_section(text)
    print(text)
    return 0


def _revision(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    )
    return (done.stdout.strip() or "?") + ("+changes" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
