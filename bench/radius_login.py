"""Access-Request -> Accept through the real FreeRADIUS (as `kiosk network radius-config` writes
it) with 10,000 credentials and 1,000,000 radacct rows, on SQLite and PostgreSQL: p50/p99 with
the daily counter and Simultaneous-Use, and on the same server for credentials without them.
Run: `.venv/bin/python -m bench radius`; figures go to "Internet: RADIUS logins" in
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))
from support.hotspot_nas import HotspotNas  # noqa: E402
from support.postgres_server import NoPostgreSQL, PostgreSQL  # noqa: E402
from support.radius_server import MODULE_DIR, FreeRadiusServer, missing_reason  # noqa: E402

from bench.report import write_section  # noqa: E402
from kiosk.backend.provisioning.freeradius import (  # noqa: E402
    FreeRadiusSqlProvisioner,
    kiosk_managed_user,
    radcheck,
    radreply,
)
from kiosk.backend.provisioning.radius_policy import (  # noqa: E402
    check_attributes,
    reply_attributes,
)
from kiosk.config import InternetPolicy  # noqa: E402

RADIUS_TZ = "Asia/Jakarta"
PASSWORD = "kt7raha5ia"
POLICY = InternetPolicy(
    daily_minutes=120, devices=1, download_kbps=2048, upload_kbps=1024, idle_minutes=15
)
DAYS = 30  # radacct covers the last month; a tenth of the rows are today's


def credentials(database_url: str, count: int) -> None:
    """`count` users with the policy (counters: "pc…") and `count` without ("pn…"), written
    as the provisioner writes them, in one transaction."""
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).astimezone(
        dt.timezone(dt.timedelta(hours=7))
    )
    expiration = expires.strftime("%d %b %Y %H:%M:%S")
    checks, replies, managed = [], [], []
    now = dt.datetime.now(dt.UTC)
    for i in range(count):
        for prefix, counted in (("pc", True), ("pn", False)):
            user = f"{prefix}{i:05d}"
            managed.append({"username": user, "issued_at": now})
            checks.append(_row(user, ("Cleartext-Password", ":=", PASSWORD)))
            checks.append(_row(user, ("Expiration", ":=", expiration)))
            if counted:
                checks += [_row(user, a) for a in check_attributes(POLICY)]
            replies += [_row(user, a) for a in reply_attributes(POLICY)]
    provisioner = FreeRadiusSqlProvisioner(database_url, radius_timezone=RADIUS_TZ)
    provisioner.check()  # the schema, with the counter's indexes
    with provisioner.engine.begin() as conn:
        conn.execute(insert(radcheck), checks)
        conn.execute(insert(radreply), replies)
        conn.execute(insert(kiosk_managed_user), managed)
    provisioner.close()


def _row(user: str, attribute: tuple[str, str, str]) -> dict[str, str]:
    name, op, value = attribute
    return {"username": user, "attribute": name, "op": op, "value": value}


def accounting_rows(database_url: str, users: int, rows: int) -> None:
    """`rows` closed sessions over both sets of users, made inside the database (seconds):
    one a day per user back over DAYS days, today's short enough to leave minutes over."""
    now = int(time.time())
    provisioner = FreeRadiusSqlProvisioner(database_url)
    postgres = provisioner.engine.dialect.name == "postgresql"
    start = (
        "to_timestamp(:now - (i % :days) * 86400 - 3600 - (i % 600))"
        if postgres
        else ":now - (i % :days) * 86400 - 3600 - (i % 600)"
    )
    stop = start.replace("3600 -", "3000 -")
    user = (
        "CASE WHEN (i / :days) % 2 = 0 THEN 'pc' ELSE 'pn' END"
        " || lpad(((i / :days / 2) % :users)::text, 5, '0')"
        if postgres
        else "CASE WHEN (i / :days) % 2 = 0 THEN 'pc' ELSE 'pn' END"
        " || substr('0000' || ((i / :days / 2) % :users), -5, 5)"
    )
    numbers = (
        "generate_series(0, :rows - 1) AS i"
        if postgres
        else "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)"
        " SELECT i FROM n)"
    )
    statement = text(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
        " acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets,"
        " acctoutputoctets, callingstationid, framedipaddress, acctterminatecause)"
        f" SELECT 's' || i, md5_or_id, {user}, '127.0.0.1', {start}, {stop}, {stop}, 600,"
        " 1000000, 5000000, 'AA-BB-CC-00-00-01', '10.5.50.23', 'User-Request'"
        f" FROM {numbers}"
    )
    unique = "md5(i::text)" if postgres else "printf('%032x', i)"
    statement = text(str(statement).replace("md5_or_id", unique))
    with provisioner.engine.begin() as conn:
        conn.execute(statement, {"now": now, "days": DAYS, "users": users, "rows": rows})
        if postgres:
            conn.execute(text("ANALYZE radacct"))
            conn.execute(text("ANALYZE radcheck"))
        else:
            conn.execute(text("ANALYZE"))
    provisioner.close()


def logins(server: FreeRadiusServer, work: Path, users: int, count: int) -> dict[str, list[float]]:
    """Milliseconds from Access-Request sent to Access-Accept read, for `count` random users
    of each set, the two sets taking turns (so both see the same load on a shared machine)."""
    nas = HotspotNas(server.auth_port, server.acct_port, server.secret, work)
    chosen = random.Random(5150)
    times: dict[str, list[float]] = {"pc": [], "pn": []}
    for n in range(2 * (count + 50)):
        prefix = "pc" if n % 2 == 0 else "pn"
        user = f"{prefix}{chosen.randrange(users):05d}"
        request = nas.client.CreateAuthPacket(code=1, User_Name=user)
        request["User-Password"] = request.PwCrypt(PASSWORD)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Calling-Station-Id"] = "AA-BB-CC-00-00-02"
        started = time.perf_counter()
        reply = nas.client.SendPacket(request)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.code != 2:
            raise SystemExit(f"{user} was not accepted: code {reply.code}\n{server.log_tail()}")
        # The counter did run: what is left of the day's 120 minutes comes back.
        if prefix == "pc" and not 0 < reply["Session-Timeout"][0] <= 120 * 60:
            raise SystemExit(f"{user}: no daily counter in the reply {dict(reply)}")
        if n >= 100:  # the first 50 of each warm the connection pool and caches
            times[prefix].append(elapsed)
    return times


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def measure(label: str, url: str, work: Path, args: argparse.Namespace) -> list[str]:
    started = time.monotonic()
    credentials(url, args.users)
    accounting_rows(url, args.users, args.rows)
    filled = time.monotonic() - started
    server = FreeRadiusServer(
        work / "raddb", work / "radius.db", tz=RADIUS_TZ, database_url=url, debug=False
    )
    server.start(timeout=60)
    try:
        rows = []
        measured = logins(server, work, args.users, args.logins)
        for name, prefix in (("daily counter + Simultaneous-Use", "pc"), ("no counters", "pn")):
            times = measured[prefix]
            rows.append(
                f"| {label} | {name} | {len(times)} | {percentile(times, 0.5):.2f}"
                f" | {percentile(times, 0.99):.2f} | {max(times):.2f} |"
            )
    finally:
        server.stop()
    print(f"{label}: tables filled in {filled:.0f} s", flush=True)
    return rows


READING = """\
The two sets take turns on one server, so they see the same load: the difference between their
p50 is what the daily counter's query and the Simultaneous-Use count cost per login (the
counter query reads one user's rows through the index on `radacct (username, acctstarttime)`).
Their p99 are alike when the machine is busy: then p99 is the scheduler (FreeRADIUS's threads,
the database and the client waiting for one of two shared cores), not the queries. Filling the
tables (SQL inside each database, one statement) is most of the part's run time.
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--logins", type=int, default=2_000)
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["radius"] else None)
    reason = missing_reason()
    if reason:
        print(f"radius: not run: {reason}")
        return 0
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "sqlite").mkdir()
        rows += measure("SQLite", f"sqlite:///{tmp / 'sqlite' / 'radius.db'}", tmp / "sqlite", args)
        if (MODULE_DIR / "rlm_sql_postgresql.so").exists():
            try:
                cluster = PostgreSQL()
            except NoPostgreSQL as exc:
                print(f"radius: PostgreSQL not run: {exc}")
            else:
                cluster.start()
                try:
                    (tmp / "pg").mkdir()
                    url = cluster.new_database("radius").replace("+psycopg", "")
                    rows += measure("PostgreSQL", url, tmp / "pg", args)
                finally:
                    cluster.close()
    load_after = os.getloadavg()
    table = "\n".join(
        [
            "| database | credentials | logins | p50 ms | p99 ms | max ms |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    if args.no_write:
        return 0
    machine = f"{os.cpu_count()} cores, {cpu_model()}"
    write_section(
        "## Internet: RADIUS logins\n\n"
        "`.venv/bin/python -m bench radius` (part of `make bench`): Debian's FreeRADIUS 3.2 run"
        " from the directory `kiosk network radius-config` writes (`freeradius -f`, no debug"
        f" output), {args.users:,} credentials with the member policy (Simultaneous-Use 1,"
        f" Max-Daily-Session 120 minutes) and {args.users:,} without those two checks, in the"
        f" same database with {args.rows:,} closed radacct sessions over the last {DAYS} days."
        f" {args.logins:,} Access-Requests one after another (pyrad on loopback, PAP), random"
        " users of each set taking turns (both see the same load), each timed from send to"
        " Access-Accept; 50 more of each first to warm up."
        " Goal: p99 under 20 ms.\n\n"
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}, load average"
        f" {load_before[0]:.2f} before and {load_after[0]:.2f} after (the machine is shared"
        " with other sessions' test runs).\n\n" + table + "\n\n" + READING
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
