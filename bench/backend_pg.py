"""Backend on PostgreSQL: 1, 2 and 4 instances on one database, the same load as bench.backend.

A throwaway PostgreSQL cluster (Debian's postgresql, as the tests start it), N `kiosk
backend` processes on their own ports sharing its database_url, and the open-loop load
generator of bench/backend.py spreading its connections over them (as nginx would). Then
the same fixed 100/s run and rising steps, per instance count. `KIOSK_BENCH_BASELINE=<git
revision>` runs that revision too, interleaved per instance count, as bench.backend does.
Figures go to the section "Backend on PostgreSQL" of docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench.backend import (
    FIXED_RATE,
    FIXED_SECONDS,
    MEMBERS,
    STEP_SECONDS,
    LoadResult,
    Server,
    _row,
    fixed_and_steps,
    trees_to_measure,
)
from bench.report import write_section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support.postgres_server import NoPostgreSQL, PostgreSQL  # noqa: E402


def bench_instances(
    cluster: PostgreSQL, count: int, repo: Path = REPO, label: str = ""
) -> tuple[LoadResult, list[LoadResult]]:
    url = cluster.new_database("bench")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-pg-") as tmp:
        for n in range(count):
            (Path(tmp) / f"i{n}").mkdir()
        servers = [
            Server(Path(tmp) / f"i{n}", 1, database_url=url, import_members=n == 0, repo=repo)
            for n in range(count)
        ]
        bases: list[str] = []
        try:
            for server in servers:
                bases.append(server.start())
            target = "|".join(f"{base}/checkins" for base in bases)
            fixed, steps = fixed_and_steps(target, f"{label}{count} instance(s)")
        finally:
            for server in servers:
                with contextlib.suppress(Exception):
                    server.stop()
    return fixed, steps


def main() -> int:
    counts = [int(n) for n in os.environ.get("KIOSK_BENCH_INSTANCES", "1,2,4").split(",")]
    try:
        cluster = PostgreSQL()
    except NoPostgreSQL as exc:
        print(f"backend-pg: skipped ({exc})")
        return 0
    cluster.start()
    load_before = os.getloadavg()[0]
    runs: list[tuple[str, int, LoadResult, list[LoadResult]]] = []
    try:
        with trees_to_measure(os.environ.get("KIOSK_BENCH_BASELINE", "")) as trees:
            for count in counts:
                for tree, label in trees:  # interleaved: baseline, this tree, next count
                    runs.append((label, count, *bench_instances(cluster, count, tree, label)))
    finally:
        cluster.close()
    rows = ""
    summary = ""
    for label, count, fixed, steps in runs:
        rows += _row(f"{label}{count} instance(s), fixed {FIXED_SECONDS:.0f} s", fixed) + "\n"
        rows += "".join(
            _row(f"{label}{count} instance(s), step {STEP_SECONDS:.0f} s", s) + "\n" for s in steps
        )
        best = max((s.offered_rate for s in steps if s.sustained()), default=0.0)
        met = fixed.percentile(99) < 50 and not fixed.errors
        summary += (
            f"- {label}{count} instance(s): fixed {FIXED_RATE:.0f}/s "
            f"p50 {fixed.percentile(50):.1f} ms, "
            f"p99 {fixed.percentile(99):.1f} ms, {fixed.errors} errors (goal p99 < 50 ms: "
            f"**{'met' if met else 'NOT met'}**); highest sustained **{best:.0f} check-ins/s**.\n"
        )
    cpu = platform.processor() or platform.machine()
    text = f"""## Backend on PostgreSQL

`.venv/bin/python -m bench backend-pg` (part of `make bench`; `KIOSK_BENCH_INSTANCES=1,2,4`,
`KIOSK_BENCH_BASELINE=<revision>` measures that revision beside this one):
a throwaway PostgreSQL cluster on loopback (fsync off, as a test cluster;
a production one syncs), {MEMBERS:,} members, N `kiosk backend` instances (1 worker each)
on their own ports sharing its database, the load generator of the SQLite bench spreading
its keep-alive connections over them. The rate limits count in the database here
(`[backend] shared_limits = "auto"` on PostgreSQL): one statement per request for all three
limits. Each instance count is warmed up at 100/s for 5 s first. Same machine:
{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {dt.date.today()};
load average {load_before:.1f} before the run.

| run | offered /s | achieved /s | requests | p50 ms | p99 ms | max ms | errors | load |
|---|---|---|---|---|---|---|---|---|
{rows}
{summary}"""
    write_section(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
