"""Province: 200 simulated kiosks for 5 minutes against 2 backend instances behind nginx on one
PostgreSQL, one instance SIGKILLed and restarted during it (issue 14).

Each kiosk is a thread with the soak's journey (lookup, guestbook, check-in, the outbox when
the backend cannot be reached), its own client (HTTPS through the shipped nginx config, the
proxy's certificate as `[kiosk] ca_file`), its own outbox file and background sender. At the
end every outbox drains. Counted: visits the kiosks expect, visits in the database (lost:
expected and absent; duplicated: one client_ref twice), and the instances' own
`kiosk_checkins_total{result="recorded"}`, summed over both and over the killed instance's
first life (its worker files survive a SIGKILL), which must equal the database's count.
Figures go to the "Province" section of docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.report import write_section
from bench.soak import ANSWERS, Tally, demo_cards, drain_outbox, journey
from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.outbox_sender import OutboxSender

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))
from support.backend_server import BackendServer  # noqa: E402
from support.nginx_proxy import NginxProxy, NoNginx  # noqa: E402
from support.postgres_server import NoPostgreSQL, PostgreSQL, plain_url  # noqa: E402

KIOSKS = int(os.environ.get("KIOSK_PROVINCE_KIOSKS", "200"))
SECONDS = float(os.environ.get("KIOSK_PROVINCE_SECONDS", "300"))
PAUSE_SECONDS = (2.0, 8.0)  # between one patron and the next at a kiosk
SEED = 20261202
assert ANSWERS  # the soak's guestbook answers are the patrons' here too


def kiosk(
    index: int,
    proxy: NginxProxy,
    token: str,
    workdir: Path,
    until: float,
    cards: list[str],
    tally: Tally,
    errors: list[BaseException],
) -> None:
    rng = random.Random(SEED + index)
    settings = KioskSettings(
        backend_url=proxy.url.removesuffix("/api/v1"),
        api_token=token,
        kiosk_id=f"kiosk-{index:03d}",
        ca_file=str(proxy.certificate),
        connect_timeout=1.0,
        read_timeout=3.0,
    )
    client = BackendClient(settings)
    outbox = Outbox(workdir / f"outbox-{index:03d}.sqlite3")
    sender = OutboxSender(outbox, client, interval=2.0, base_delay=0.5, max_delay=4.0)
    sender.start()
    try:
        time.sleep(rng.uniform(0, PAUSE_SECONDS[1]))  # kiosks do not start in step
        while time.monotonic() < until:
            journey(client, outbox, sender, rng.choice(cards), settings.kiosk_id, rng, tally)
            time.sleep(rng.uniform(*PAUSE_SECONDS))
        sender.stop(timeout=10.0)
        drained = drain_outbox(outbox, client)
        with tally.lock:
            tally.outcomes["sent by the outbox"] += sender.sent + drained
            tally.outcomes["left in outbox after drain"] += outbox.pending_count()
            tally.dead.update(e.client_ref for e in outbox.dead_letters())
    except BaseException as exc:  # reported by main(); one kiosk must not hang the run
        errors.append(exc)
    finally:
        outbox.close()
        client.close()


def recorded_by_metrics(instances: list[BackendServer]) -> int:
    """kiosk_checkins_total{result="recorded"} over every life of every instance: the
    worker files of each start (var/metrics/<start>), which a SIGKILL leaves behind."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    total = 0.0
    for server in instances:
        for start in sorted((server.dir / "metrics").glob("*")):
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(start))
            value = registry.get_sample_value("kiosk_checkins_total", {"result": "recorded"})
            total += value or 0.0
    return int(total)


def main() -> int:
    logging.basicConfig(level=logging.CRITICAL)  # outages make thousands of expected errors
    try:
        cluster = PostgreSQL()
    except NoPostgreSQL as exc:
        print(f"province: skipped ({exc})")
        return 0
    cluster.start()
    load_before = os.getloadavg()
    tally, errors = Tally(), []
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-province-") as tmp:
            work = Path(tmp)
            database = cluster.new_database("province")
            # Two workers each: the worker files are what a SIGKILL leaves to count.
            config = {"database_url": database, "workers": 2}
            tokens = [f"province-kiosk-{i:03d}-token" for i in range(KIOSKS)]  # one per kiosk
            first = BackendServer(work / "a", workers=2, extra_tokens=tokens, backend=config)
            second = BackendServer(
                work / "b", workers=2, extra_tokens=tokens, members_csv=None, backend=config
            )
            try:
                # Every simulated kiosk comes from 127.0.0.1: nginx's cap per address (64,
                # for real kiosks on their own addresses) is raised for the run.
                proxy = NginxProxy(work / "nginx", [first.port, second.port], per_address=1000)
            except NoNginx as exc:
                print(f"province: skipped ({exc})")
                return 0
            proxy.start()
            try:
                figures = run(proxy, first, second, tokens, work, tally, errors)
                stored = stored_refs(database)
                metrics = recorded_by_metrics([first, second])
            finally:
                proxy.stop()
                for server in (first, second):
                    with contextlib.suppress(Exception):
                        server.stop()
    finally:
        cluster.close()
    if errors:
        for exc in errors[:5]:
            print(f"province: a kiosk failed: {exc!r}", file=sys.stderr)
        return 1
    return report(tally, stored, metrics, figures, load_before)


def run(
    proxy: NginxProxy,
    first: BackendServer,
    second: BackendServer,
    tokens: list[str],
    work: Path,
    tally: Tally,
    errors: list[BaseException],
) -> dict[str, float]:
    cards = demo_cards()
    started = time.monotonic()
    until = started + SECONDS
    threads = [
        threading.Thread(
            target=kiosk,
            args=(i, proxy, tokens[i], work, until, cards, tally, errors),
            name=f"kiosk-{i:03d}",
            daemon=True,
        )
        for i in range(KIOSKS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS / 3)
    first.kill()  # SIGKILL mid-run: nginx passes its requests to the other instance
    killed_at = time.monotonic() - started
    time.sleep(SECONDS / 6)
    first.start()
    back_at = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=SECONDS + 300)
    return {
        "seconds": time.monotonic() - started,
        "killed_at": killed_at,
        "back_at": back_at,
    }


def stored_refs(database: str) -> list[str]:
    with psycopg.connect(plain_url(database)) as connection:
        return [str(r[0]) for r in connection.execute("SELECT client_ref FROM visits")]


def report(
    tally: Tally,
    stored: list[str],
    metrics: int,
    figures: dict[str, float],
    load_before: tuple[float, float, float],
) -> int:
    kept = set(stored)
    expected = tally.expected
    lost = expected - kept - tally.dead
    duplicated = len(stored) - len(kept)
    dead_wrong = tally.dead - tally.expected_dead
    outcomes = "\n".join(f"| {name} | {count} |" for name, count in sorted(tally.outcomes.items()))
    load_after = os.getloadavg()
    ok = not lost and not duplicated and metrics == len(stored) and not dead_wrong
    text = f"""## Province

`.venv/bin/python -m bench province` (part of `make bench`; `KIOSK_PROVINCE_KIOSKS`,
`KIOSK_PROVINCE_SECONDS`): {KIOSKS} simulated kiosks (threads, each with the soak's journey,
its own `BackendClient` over HTTPS and its own outbox file and sender; a patron every
{PAUSE_SECONDS[0]:.0f}-{PAUSE_SECONDS[1]:.0f} s per kiosk) for {SECONDS:.0f} s against 2
backend instances (2 workers each) behind the shipped nginx config on one PostgreSQL
(its per-address connection cap raised, since every simulated kiosk comes from 127.0.0.1;
one token per kiosk).
Instance A was SIGKILLed at {figures["killed_at"]:.0f} s and started again at
{figures["back_at"]:.0f} s; then every outbox drained. {os.cpu_count()} cores
({platform.machine()}), {dt.date.today()}; load average {load_before[0]:.1f} before,
{load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} after (kiosks, nginx, two
instances and PostgreSQL share the machine).

| figure | value |
|---|---|
| visits the kiosks expect to be recorded | {len(expected)} |
| visits in the database | {len(stored)} |
| **lost** (expected, not recorded, not a dead letter) | **{len(lost)}** |
| **duplicated** (one client_ref twice) | **{duplicated}** |
| dead letters that should not be | {len(dead_wrong)} |
| `kiosk_checkins_total{{result="recorded"}}`, both instances, every life | {metrics} |
| metrics = database | **{"yes" if metrics == len(stored) else "no"}** |
| wall time, drain included | {figures["seconds"]:.0f} s |

| journey outcome | count |
|---|---|
{outcomes}
"""
    write_section(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
