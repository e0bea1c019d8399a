"""Library systems benchmark: member lookup latency live from SLiMS vs from the local copy
(MariaDB stopped), and the write-back backlog's drain rate after an outage, on a real MariaDB
and the real backend. Writes its section of docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.report import write_section

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))
from support.backend_server import BackendServer  # noqa: E402
from support.mariadb_server import Library, MariaDB  # noqa: E402

MEMBERS = 2000
LOOKUPS = 300
BACKLOG = 1000
JAKARTA = dt.timezone(dt.timedelta(hours=7))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lookups(server: BackendServer, ids: list[str]) -> tuple[list[float], set[str]]:
    session = requests.Session()
    times, served = [], set()
    for member_id in ids:
        started = time.perf_counter()
        answer = session.post(
            server.url("members/lookup"), json={"card": member_id}, headers=server.headers
        )
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
        served.add(answer.json()["served_from"])
    return times, served


def waiting(server: BackendServer) -> int:
    return int(server.get("health").json()["writeback_waiting"])


def main() -> int:
    mariadb = MariaDB()
    mariadb.start()
    try:
        library = Library(mariadb)
        ids = [f"19{n:06d}" for n in range(MEMBERS)]
        values = ",".join(f"('{i}', 'Anggota {i}', 'Sekolah', '2031-12-31', 0)" for i in ids)
        library.slims_sql(
            "INSERT INTO member (member_id, member_name, inst_name, expire_date, is_pending) "
            f"VALUES {values}"
        )
        slims = {"database_url": mariadb.url(library.slims), "record_visits": True}
        with (
            tempfile.TemporaryDirectory() as tmp,
            BackendServer(
                Path(tmp),
                members_csv=None,
                members={"source": "slims", "writeback_seconds": 0.5, "slims": slims},
            ) as server,
        ):
            sync_started = time.perf_counter()
            server.kiosk("members", "sync")
            sync_seconds = time.perf_counter() - sync_started
            sample = random.Random(7).sample(ids, LOOKUPS)
            load_live = os.getloadavg()[0]
            live, served_live = lookups(server, sample)
            mariadb.stop()
            load_copy = os.getloadavg()[0]
            copy, served_copy = lookups(server, sample)
            now = dt.datetime.now(JAKARTA)
            for n, member_id in enumerate(ids[:BACKLOG]):
                body = {
                    "client_ref": str(uuid.uuid4()),
                    "card": member_id,
                    "answers": {"purpose": "membaca"},
                    "want_internet": False,
                    "kiosk_id": "bench",
                    "occurred_at": (now - dt.timedelta(seconds=n)).isoformat(),
                }
                server.post("visits", json=body).raise_for_status()
            queued = waiting(server)
            load_drain = os.getloadavg()[0]
            mariadb.start()
            started = time.perf_counter()
            deadline = started + 600
            while waiting(server) and time.perf_counter() < deadline:
                time.sleep(0.2)
            drain_seconds = time.perf_counter() - started
            rows = int(library.slims_sql("SELECT COUNT(*) FROM visitor_count")[0][0])
    finally:
        mariadb.close()
    table = (
        "## Library systems (SLiMS on MariaDB)\n\n"
        f"{dt.date.today().isoformat()}, 2 cores shared with other helpers' work (figures are "
        "noisy), `nice -n 5 python -m bench library`; MariaDB 10.11 on loopback, the backend "
        f"on SQLite, 1 worker; {MEMBERS} SLiMS members (sync {sync_seconds:.1f} s).\n\n"
        "| what | figure | load average (1 min) |\n|---|---|---|\n"
        f"| lookup, live from SLiMS ({LOOKUPS}, served_from {'/'.join(sorted(served_live))}) | "
        f"p50 {statistics.median(live):.1f} ms, p95 {percentile(live, 0.95):.1f} ms | "
        f"{load_live:.2f} |\n"
        f"| lookup, MariaDB stopped: local copy ({LOOKUPS}, served_from "
        f"{'/'.join(sorted(served_copy))}) | p50 {statistics.median(copy):.1f} ms, p95 "
        f"{percentile(copy, 0.95):.1f} ms | {load_copy:.2f} |\n"
        f"| write-back backlog after the outage ({queued} visits queued) | drained in "
        f"{drain_seconds:.1f} s = {queued / max(drain_seconds, 1e-9):.0f} visits/s; "
        f"visitor_count rows: {rows} (exactly once) | {load_drain:.2f} |\n"
    )
    print(table)
    write_section(table)
    return 0 if rows == queued == BACKLOG else 1


if __name__ == "__main__":
    sys.exit(main())
