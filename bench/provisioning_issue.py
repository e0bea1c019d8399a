"""How long issuing one credential takes with each provisioner (the figures in
docs/benchmarks.md).
Run: `.venv/bin/python -m bench provisioning`."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))
from support.radius_server import FreeRadiusServer, missing_reason  # noqa: E402
from support.routeros_fake import FakeRouterOS, make_tls_files  # noqa: E402

from kiosk.backend.provisioning.base import NetworkCredential, Provisioner  # noqa: E402
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner  # noqa: E402
from kiosk.backend.provisioning.local import LocalProvisioner  # noqa: E402
from kiosk.backend.provisioning.mikrotik import MikrotikProvisioner  # noqa: E402

RADIUS_TZ = "Asia/Jakarta"


def timed(count: int, action: Callable[[int], None]) -> list[float]:
    """Milliseconds for each of `count` calls of action(i)."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def row(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"| {name} | {len(times)} | {statistics.median(times):.2f} | {p95:.2f} | {max(times):.2f} |"
    )


def issue_all(provisioner: Provisioner, count: int) -> list[float]:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    def issue(i: int) -> None:
        provisioner.issue(NetworkCredential(f"pb{i:05d}", f"pw{i:06d}x", expires))

    provisioner.check()  # connections and schema are set up once, not per credential
    return timed(count, issue)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["provisioning"] else None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rows.append(row("local", issue_all(LocalProvisioner(), args.count)))

        database = tmp / "radius.db"
        radius = FreeRadiusSqlProvisioner(
            f"sqlite:///{database}", group="perpustakaan", radius_timezone=RADIUS_TZ
        )
        rows.append(row("freeradius-sql (SQLite file)", issue_all(radius, args.count)))
        if missing_reason() is None:
            server = FreeRadiusServer(tmp / "raddb", database, tz=RADIUS_TZ)
            server.start()
            client = server.client()
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

            def issue_and_log_in(i: int) -> None:
                radius.issue(NetworkCredential(f"pr{i:05d}", "pw-login", expires))
                answer, _ = client.answer(f"pr{i:05d}", "pw-login")
                assert answer == "accept"

            try:
                rows.append(
                    row(
                        "freeradius-sql issue + RADIUS Access-Accept",
                        timed(args.count, issue_and_log_in),
                    )
                )
            finally:
                server.stop()
        radius.close()

        tls = make_tls_files(tmp / "tls")
        router = FakeRouterOS(tls)
        router.start()
        mikrotik = MikrotikProvisioner(
            router.url, router.user, router.password, "perpustakaan", str(tls.ca_file)
        )
        try:
            rows.append(
                row("mikrotik-rest (loopback HTTPS stand-in)", issue_all(mikrotik, args.count))
            )
        finally:
            mikrotik.close()
            router.stop()

    print("| provisioner | credentials | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
