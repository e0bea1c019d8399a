"""The Dinas report's tables (per day, per month, per answer, internet) in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kiosk.backend.provisioning.usage import UseTotals
from kiosk.backend.reports.visits import Period, VisitReport
from kiosk.config import GuestbookField

# t(key, **values): the console's catalog text in the reader's language (reports import no console).
Translate = Callable[..., str]
Cell = str | int | Decimal | dt.date
# A period longer than this is shown month by month only (the PDF; the XLSX has both).
MAX_DAILY_ROWS = 62
# The halves of a year by their first and last (month, day): Semester I and Semester II.
SEMESTERS = {(1, 1, 6, 30): "I", (7, 1, 12, 31): "II"}


@dataclass(frozen=True)
class Table:
    """A titled table: its header, its rows (first cell a date, a month or a label) and the
    "Jumlah" row (None when a sum has no meaning)."""

    title: str
    header: list[str]
    rows: list[list[Cell]]
    total: list[Cell] | None


@dataclass(frozen=True)
class Month:
    """A month of the period, a row's first cell in the month-by-month table."""

    first: dt.date


@dataclass(frozen=True)
class DinasReport:
    title: str
    library: str
    tables: list[Table]


def decimal(value: float, places: int) -> Decimal:
    """A value rounded half up to `places` decimals, keeping them (0.370, 81.90)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def long_date(day: dt.date, t: Translate) -> str:
    """1 Desember 2026 (1 December 2026 in English)."""
    return f"{day.day} {t(f'month.{day.month}')} {day.year}"


def month_name(day: dt.date, t: Translate) -> str:
    return f"{t(f'month.{day.month}')} {day.year}"


def report_title(period: Period, t: Translate, kind: str = "visits") -> str:
    """The title with the period in words: a whole month, a whole year, a semester, a day,
    or a span."""
    first, last = period.first, period.last
    following = (last + dt.timedelta(days=1)).day == 1
    if first == last:
        return t(f"dinas.{kind}.day", date=long_date(first, t))
    if first.day == 1 and following and first.month == last.month and first.year == last.year:
        return t(f"dinas.{kind}.month", month=month_name(first, t))
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        return t(f"dinas.{kind}.year", year=first.year)
    semester = SEMESTERS.get((first.month, first.day, last.month, last.day))
    if semester and first.year == last.year:
        return t(f"dinas.{kind}.semester", semester=semester, year=first.year)
    return t(f"dinas.{kind}.period", first=long_date(first, t), last=long_date(last, t))


def months_of(period: Period) -> list[dt.date]:
    """The first day of every month the period touches."""
    months, day = [], period.first.replace(day=1)
    while day <= period.last:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def visitor_header(t: Translate, first: str) -> list[str]:
    return [
        first,
        t("export.members"),
        t("export.guests"),
        t("export.groups"),
        t("export.group_people"),
        t("export.visitors"),
    ]


def _totals(report: VisitReport) -> list[Cell]:
    return [report.total, report.guests, report.groups, report.group_people, report.visitors]


def day_table(report: VisitReport, t: Translate) -> Table:
    """Everyone who came, per day: members' visits, guests, groups and their people, all."""
    rows: list[list[Cell]] = [
        [
            day,
            report.by_day.get(day, 0),
            report.guests_by_day.get(day, 0),
            report.groups_by_day.get(day, 0),
            report.group_people_by_day.get(day, 0),
            report.visitors_on(day),
        ]
        for day in report.period.days
    ]
    total: list[Cell] = [t("export.total"), *_totals(report)]
    return Table(t("export.visitors_title"), visitor_header(t, t("export.date")), rows, total)


def month_table(report: VisitReport, t: Translate) -> Table:
    """The same columns month by month (a year's report)."""
    sums: dict[dt.date, list[int]] = {month: [0] * 5 for month in months_of(report.period)}
    for day in report.period.days:
        row = sums[day.replace(day=1)]
        row[0] += report.by_day.get(day, 0)
        row[1] += report.guests_by_day.get(day, 0)
        row[2] += report.groups_by_day.get(day, 0)
        row[3] += report.group_people_by_day.get(day, 0)
        row[4] += report.visitors_on(day)
    rows: list[list[Cell]] = [[month_name(month, t), *counts] for month, counts in sums.items()]
    total: list[Cell] = [t("export.total"), *_totals(report)]
    return Table(t("export.months_title"), visitor_header(t, t("export.month")), rows, total)


@dataclass(frozen=True)
class Breakdown:
    """A choice asked of members, guests or both: its key, label and choices (key, label)."""

    key: str
    label: str
    choices: list[tuple[str, str]]


def breakdowns(
    member_fields: Sequence[GuestbookField], guest_fields: Sequence[GuestbookField], language: str
) -> list[Breakdown]:
    """Every choice field, members' first, then those only guests answer (gender); a choice
    only one side offers is a row too."""
    found: dict[str, Breakdown] = {}
    for fields in (member_fields, guest_fields):
        for f in fields:
            if f.kind != "choice":
                continue
            known = found.get(f.key)
            choices = [(c.key, c.label.get(language)) for c in f.choices]
            if known is None:
                found[f.key] = Breakdown(f.key, f.label.get(language), choices)
            else:
                keys = {k for k, _ in known.choices}
                known.choices.extend(c for c in choices if c[0] not in keys)
    return list(found.values())


def answer_table(report: VisitReport, field: Breakdown, t: Translate) -> Table:
    """Members, guests and group people per choice, with a row for those who did not say (or
    were not asked), so each column adds up to everyone of its kind."""
    members = report.by_answer.get(field.key, Counter())
    guests = report.guest_answers.get(field.key, Counter())
    people = report.group_answers.get(field.key, Counter())
    rows: list[list[Cell]] = []
    known = [0, 0, 0]
    for key, label in field.choices:
        counts = [members.get(key, 0), guests.get(key, 0), people.get(key, 0)]
        known = [a + b for a, b in zip(known, counts, strict=True)]
        rows.append([label, *counts, sum(counts)])
    unknown = [
        report.total - known[0],
        report.guests - known[1],
        report.group_people - known[2],
    ]
    rows.append([t("export.unknown"), *unknown, sum(unknown)])
    header = [
        field.label,
        t("export.members"),
        t("export.guests"),
        t("export.group_people"),
        t("export.total"),
    ]
    total: list[Cell] = [
        t("export.total"),
        report.total,
        report.guests,
        report.group_people,
        report.visitors,
    ]
    name = field.label[:1].lower() + field.label[1:] if field.label[1:2].islower() else field.label
    return Table(t("export.by_field", field=name), header, rows, total)


def internet_table(report: VisitReport, t: Translate, use: UseTotals | None = None) -> Table:
    """Credentials made at the kiosks, shown again, guests' vouchers, and those issued at
    the service counter (on their own line: no guestbook visit); with a record of use
    (FreeRADIUS's radacct), the period's sessions, hours online and users."""
    rows: list[list[Cell]] = [
        [t("export.internet.issued"), report.credentials_issued],
        [t("export.internet.shown_again"), report.credentials_shown_again],
        [t("export.internet.vouchers"), report.guest_vouchers],
        [t("export.internet.counter"), report.counter_issues],
    ]
    if use is not None:
        rows += [
            [t("export.internet.sessions"), use.sessions],
            [t("export.internet.hours"), decimal(use.hours, 1)],
            [t("export.internet.users"), use.users],
        ]
    header = [t("export.internet.what"), t("export.internet.count")]
    return Table(t("export.internet_title"), header, rows, None)  # lines of unlike things


def dinas_report(
    report: VisitReport,
    member_fields: Sequence[GuestbookField],
    guest_fields: Sequence[GuestbookField],
    library: str,
    language: str,
    t: Translate,
    *,
    every_day: bool = False,
    internet_use: UseTotals | None = None,
) -> DinasReport:
    """The tables in the order an official reads them: visitors per month (a period over
    more than one month), per day (up to two months, or always when `every_day`), by
    answer, internet (with the record of use's figures when there is one)."""
    tables = []
    long = len(months_of(report.period)) > 1
    if long:
        tables.append(month_table(report, t))
    if every_day or len(report.period.days) <= MAX_DAILY_ROWS:
        tables.append(day_table(report, t))
    tables += [
        answer_table(report, f, t) for f in breakdowns(member_fields, guest_fields, language)
    ]
    tables.append(internet_table(report, t, internet_use))
    return DinasReport(report_title(report.period, t), library, tables)
