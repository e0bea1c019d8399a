"""Console reports at a year's scale: 500,000 visits in SQLite; the year's report (every
breakdown) must take < 1 s and the XLSX/CSV export < 5 s. In-process against a real
SQLite file migrated like the backend's; figures go to docs/benchmarks.md ("Console")."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.report import write_section
from kiosk.backend.console.i18n import translator
from kiosk.backend.db import VisitAnswerRow, VisitRow, create_db_engine, migrate, read_session
from kiosk.backend.reports.dinas_export import visits_csv, visits_xlsx
from kiosk.backend.reports.visits import Period, visit_report
from kiosk.config import Settings

VISITS = int(os.environ.get("KIOSK_BENCH_CONSOLE_VISITS", "500000"))
YEAR = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
ROUNDS = 5


def fill(engine: sa.Engine, settings: Settings) -> None:
    rng = random.Random(1)
    fields = [f for f in settings.guestbook.fields if f.kind == "choice"]
    days = YEAR.days
    batch_visits: list[dict[str, object]] = []
    batch_answers: list[dict[str, object]] = []
    with engine.begin() as conn:
        for n in range(1, VISITS + 1):
            day = rng.choice(days)
            hour = rng.randint(8, 17)
            answers = {f.key: rng.choice(f.choices).key for f in fields}
            moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
            batch_visits.append(
                {
                    "id": n,
                    "client_ref": f"{n:036d}",
                    "member_id": f"19{n % 20000:06d}",
                    "kiosk_id": f"kiosk-{n % 3}",
                    "occurred_at": moment,
                    "received_at": moment,
                    "answers": json.dumps(answers),
                    "want_internet": False,
                    "credential_reused": False,
                    "request_digest": "b",
                    "response": "{}",
                    "local_day": day,
                    "local_hour": hour,
                    "counted": True,
                }
            )
            for key, value in answers.items():
                batch_answers.append(
                    {"visit_id": n, "field": key, "value": value, "local_day": day}
                )
            if len(batch_visits) >= 20_000:
                conn.execute(sa.insert(VisitRow), batch_visits)
                conn.execute(sa.insert(VisitAnswerRow), batch_answers)
                batch_visits, batch_answers = [], []
        if batch_visits:
            conn.execute(sa.insert(VisitRow), batch_visits)
            conn.execute(sa.insert(VisitAnswerRow), batch_answers)
        conn.exec_driver_sql("ANALYZE")


def timed(action: object) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    settings = Settings()
    keys = [f.key for f in settings.guestbook.fields if f.kind == "choice"]
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-console-") as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        migrate(engine)
        started = time.perf_counter()
        fill(engine, settings)
        fill_s = time.perf_counter() - started

        def report() -> object:
            with read_session(engine) as session:
                return visit_report(session, YEAR, keys)

        year = report()
        assert year.total == VISITS, year.total  # type: ignore[attr-defined]
        report_s = timed(report)
        fields = settings.guestbook.fields
        xlsx_s = timed(
            lambda: visits_xlsx(report(), fields, "Perpustakaan", "id", translator("id"))
        )  # type: ignore[arg-type]
        csv_s = timed(lambda: visits_csv(report(), fields, "Perpustakaan", "id", translator("id")))  # type: ignore[arg-type]
        engine.dispose()
    load = os.getloadavg()
    verdict = max(report_s) < 1.0 and max(xlsx_s) < 5.0 and max(csv_s) < 5.0
    text = (
        "## Console\n\n"
        f"`python -m bench console`, {dt.date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work (load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} when it finished). {VISITS:,} visits "
        f"over 2025 in SQLite (filled in {fill_s:.0f} s), every breakdown of the year "
        f"(day, hour, weekday, kiosk, each guestbook choice field), {ROUNDS} rounds:\n\n"
        "| what | median | worst | limit |\n|---|---|---|---|\n"
        f"| year report (SQL aggregates) | {statistics.median(report_s) * 1000:.0f} ms | "
        f"{max(report_s) * 1000:.0f} ms | 1 s |\n"
        f"| visits.xlsx export (report + 3 sheets) | {statistics.median(xlsx_s) * 1000:.0f} ms"
        f" | {max(xlsx_s) * 1000:.0f} ms | 5 s |\n"
        f"| visits.csv export | {statistics.median(csv_s) * 1000:.0f} ms | "
        f"{max(csv_s) * 1000:.0f} ms | 5 s |\n\n"
        f"{'Within both limits.' if verdict else 'OVER A LIMIT.'}\n"
    )
    write_section(text)
    print(text)
    return 0 if verdict else 1
