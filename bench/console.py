"""Console reports at a year's scale: 500,000 visits (and guests, groups, surveys) in SQLite;
the year's report (every breakdown) must take < 1 s and the Dinas's PDF, XLSX and CSV < 5 s
each, with their peak memory. In-process against a real SQLite file migrated like the
backend's; figures go to docs/benchmarks.md ("Console")."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.report import write_section
from kiosk.backend.console.i18n import translator
from kiosk.backend.db import (
    GuestVisitRow,
    MemberRow,
    SatisfactionRow,
    VisitAnswerRow,
    VisitRow,
    create_db_engine,
    migrate,
    read_session,
)
from kiosk.backend.reports.dinas_export import visits_csv, visits_xlsx
from kiosk.backend.reports.dinas_pdf import report_pdf
from kiosk.backend.reports.dinas_tables import DinasReport, dinas_report
from kiosk.backend.reports.skm import skm_dinas_report, skm_report
from kiosk.backend.reports.visits import Period, VisitReport, count_member_genders, visit_report
from kiosk.config import Settings

VISITS = int(os.environ.get("KIOSK_BENCH_CONSOLE_VISITS", "500000"))
GUESTS = VISITS // 25  # a guest or a group for every 25 members' visits
MEMBERS = 20_000  # the visits' members; 9 in 10 with a gender from the library
SURVEYS = VISITS // 10
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
                    "member_id": f"19{n % MEMBERS:06d}",
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


def fill_members(engine: sa.Engine) -> None:
    rng = random.Random(3)
    genders = ["laki_laki", "perempuan"] * 9 + [None, None]
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    members = [
        {
            "id": f"19{n:06d}",
            "name": f"Anggota {n}",
            "status": "active",
            "gender": rng.choice(genders),
            "updated_at": now,
        }
        for n in range(MEMBERS)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(MemberRow), members)
        conn.exec_driver_sql("ANALYZE")


def fill_guests_and_surveys(engine: sa.Engine) -> None:
    rng = random.Random(2)
    days = YEAR.days
    guests: list[dict[str, object]] = []
    surveys: list[dict[str, object]] = []
    for n in range(1, GUESTS + 1):
        day = rng.choice(days)
        moment = dt.datetime.combine(day, dt.time(rng.randint(1, 10)), tzinfo=dt.UTC)
        size = 1 if n % 10 else rng.randint(5, 40)
        answers: dict[str, object] = {"purpose": rng.choice(["membaca", "penelitian"])}
        if size == 1:
            answers["gender"] = rng.choice(["laki_laki", "perempuan"])
        else:
            men = rng.randint(0, size)
            answers |= {"count_laki_laki": men, "count_perempuan": size - men}
        guests.append(
            {
                "client_ref": f"g{n:035d}",
                "name": "Tamu",
                "institution": "",
                "group_size": size,
                "kiosk_id": "kiosk-1",
                "occurred_at": moment,
                "received_at": moment,
                "answers": json.dumps(answers),
                "want_internet": False,
                "request_digest": "g",
                "response": "{}",
            }
        )
    for n in range(1, SURVEYS + 1):
        scores = {f"u{e}": rng.randint(2, 4) for e in range(1, 10)}
        surveys.append(
            {
                "client_ref": f"s{n:035d}",
                "kiosk_id": "kiosk-1",
                "local_day": rng.choice(days),
                "occupation": rng.choice(["pelajar", "mahasiswa", None]),
                "gender": rng.choice(["laki_laki", "perempuan"]),
                "request_digest": "s",
                **scores,
            }
        )
    with engine.begin() as conn:
        conn.execute(sa.insert(GuestVisitRow), guests)
        conn.execute(sa.insert(SatisfactionRow), surveys)
        conn.exec_driver_sql("ANALYZE")


def timed(action: Callable[[], object]) -> tuple[list[float], float]:
    """Seconds per round, then the peak of Python's allocations (MiB) in one more round."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return times, peak


def genders_alone(engine: sa.Engine) -> None:
    """The members' gender count of the year on its own (the query the report adds)."""
    with read_session(engine) as session:
        count_member_genders(session, VisitReport(YEAR))


def timed_pair(
    first: Callable[[], object], second: Callable[[], object]
) -> tuple[tuple[list[float], float], tuple[list[float], float]]:
    """Both timed in turns, round by round, so that a shared machine's load falls on both
    alike (their difference is what the first adds), then each one's peak as in timed."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        for action, seconds in zip((first, second), times, strict=True):
            started = time.perf_counter()
            action()
            seconds.append(time.perf_counter() - started)
    peaks = []
    for action in (first, second):
        tracemalloc.start()
        action()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return (times[0], peaks[0]), (times[1], peaks[1])


def row(what: str, figures: tuple[list[float], float], limit: str) -> str:
    times, peak = figures
    return (
        f"| {what} | {statistics.median(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms | "
        f"{peak:.1f} MiB | {limit} |\n"
    )


def main() -> int:
    settings = Settings()
    keys = list(
        dict.fromkeys(
            f.key
            for f in [*settings.guestbook.fields, *settings.guests.fields]
            if f.kind == "choice"
        )
    )
    t = translator("id")
    library = settings.library
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-console-") as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        migrate(engine)
        started = time.perf_counter()
        fill(engine, settings)
        fill_members(engine)
        fill_guests_and_surveys(engine)
        fill_s = time.perf_counter() - started
        zone = ZoneInfo("Asia/Jakarta")

        def report() -> object:
            with read_session(engine) as session:
                return visit_report(session, YEAR, keys, zone)

        def report_without_gender() -> object:  # members' gender not joined: the join's cost
            with read_session(engine) as session:
                return visit_report(session, YEAR, [k for k in keys if k != "gender"], zone)

        def tables(every_day: bool) -> DinasReport:
            year = report()
            return dinas_report(
                year,  # type: ignore[arg-type]
                settings.guestbook.fields,
                settings.guests.fields,
                library.name,
                "id",
                t,
                every_day=every_day,
            )

        def skm() -> bytes:
            with read_session(engine) as session:
                survey = skm_report(session, YEAR)
            made = skm_dinas_report(
                survey, settings.guestbook.fields, settings.guests.fields, library.name, "id", t
            )
            return report_pdf(made, library, dt.date(2026, 1, 2), "id", t)

        year = report()
        assert year.total == VISITS, year.total  # type: ignore[attr-defined]
        by_gender = year.by_answer["gender"]  # type: ignore[attr-defined]
        assert 0.85 * VISITS < sum(by_gender.values()) < 0.95 * VISITS, by_gender
        report_s, plain_s = timed_pair(report, report_without_gender)
        genders_s = timed(lambda: genders_alone(engine))
        pdf_s = timed(lambda: report_pdf(tables(False), library, dt.date(2026, 1, 2), "id", t))
        xlsx_s = timed(lambda: visits_xlsx(tables(True)))
        csv_s = timed(lambda: visits_csv(tables(True)))
        skm_s = timed(skm)
        engine.dispose()
    rows = (
        row("year report (SQL aggregates, members' gender counted)", report_s, "1 s")
        + row("year report without the members' gender (timed in turns with it)", plain_s, "-")
        + row("members' visits by gender alone (its query)", genders_s, "-")
        + row("visits.pdf (report + A4 PDF)", pdf_s, "5 s")
        + row("visits.xlsx (report + 7 sheets)", xlsx_s, "5 s")
        + row("visits.csv", csv_s, "5 s")
        + row("skm.pdf (surveys + A4 PDF)", skm_s, "5 s")
    )
    worst = [max(f[0]) for f in (pdf_s, xlsx_s, csv_s, skm_s)]
    verdict = max(report_s[0]) < 1.0 and max(worst) < 5.0
    text = section(fill_s, rows, verdict)
    write_section(text)
    print(text)
    return 0 if verdict else 1


def section(fill_s: float, rows: str, verdict: bool) -> str:
    """The "Console" section of docs/benchmarks.md: how it was measured, then the figures."""
    load = os.getloadavg()
    return (
        "## Console\n\n"
        f"`python -m bench console`, {dt.date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work (load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} when it finished). {VISITS:,} members' "
        f"visits of {MEMBERS:,} members (9 in 10 with a gender), {GUESTS:,} guests and groups and "
        f"{SURVEYS:,} satisfaction surveys over 2025 "
        f"in SQLite (filled in {fill_s:.0f} s); the year's report for the Dinas (month by "
        f"month, every answer with guests and groups, members by gender, internet; the XLSX "
        f"and CSV also day by day), {ROUNDS} rounds; peak = Python's allocations in one more "
        "round (tracemalloc):"
        "\n\n| what | median | worst | peak memory | limit |\n|---|---|---|---|---|\n"
        + rows
        + f"\n{'Within every limit.' if verdict else 'OVER A LIMIT.'}\n"
    )
