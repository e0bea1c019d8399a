"""The monthly report for the Dinas: visitors per day and members' visits by purpose (CSV, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable

import xlsxwriter  # type: ignore[import-untyped]

from kiosk.backend.reports.visits import VisitReport
from kiosk.config import GuestbookField

# t(key, **values): the console's catalog text in the reader's language (reports import no console).
Translate = Callable[..., str]

TOTAL = "Total"


def field_table(
    report: VisitReport, field: GuestbookField, language: str, t: Translate
) -> list[list[object]]:
    """Header, one row per day of the period (a column per choice, then Total), and a
    last Total row. Answers outside the configured choices count in Total only."""
    choices = [(choice.key, choice.label.get(language)) for choice in field.choices]
    per_day: Counter[tuple[dt.date, str]] = report.by_day_answer.get(field.key, Counter())
    header: list[object] = [
        t("export.date"),
        *(label for _, label in choices),
        TOTAL,
    ]
    rows: list[list[object]] = [header]
    sums = [0] * len(choices)
    for day in report.period.days:
        counts = [per_day.get((day, key), 0) for key, _ in choices]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        rows.append([day.isoformat(), *counts, report.by_day.get(day, 0)])
    rows.append([TOTAL, *sums, report.total])
    return rows


def visitors_table(report: VisitReport, t: Translate) -> list[list[object]]:
    """Everyone who came, per day: members' visits, guests, groups and their people, and all
    visitors together; then a Total row."""
    rows: list[list[object]] = [
        [
            t("export.date"),
            t("export.members"),
            t("export.guests"),
            t("export.groups"),
            t("export.group_people"),
            t("export.visitors"),
        ]
    ]
    for day in report.period.days:
        rows.append(
            [
                day.isoformat(),
                report.by_day.get(day, 0),
                report.guests_by_day.get(day, 0),
                report.groups_by_day.get(day, 0),
                report.group_people_by_day.get(day, 0),
                report.visitors_on(day),
            ]
        )
    totals = [report.total, report.guests, report.groups, report.group_people, report.visitors]
    rows.append([TOTAL, *totals])
    return rows


def title_line(library: str, report: VisitReport) -> str:
    return f"{library}: {report.period.first.isoformat()} - {report.period.last.isoformat()}"


def purpose_field(fields: list[GuestbookField]) -> GuestbookField:
    for field in fields:
        if field.key == "purpose":
            return field
    return next(field for field in fields if field.kind == "choice")


def visits_csv(
    report: VisitReport,
    fields: list[GuestbookField],
    library: str,
    language: str,
    t: Translate,
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title_line(library, report)])
    writer.writerows(field_table(report, purpose_field(fields), language, t))
    writer.writerow([])
    writer.writerow([t("export.visitors_title")])
    writer.writerows(visitors_table(report, t))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # a BOM: Excel then reads UTF-8


def visits_xlsx(
    report: VisitReport,
    fields: list[GuestbookField],
    library: str,
    language: str,
    t: Translate,
) -> bytes:
    """The purpose sheet first, then one sheet per other choice field, then the visitors."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    first = purpose_field(fields)
    ordered = [first] + [f for f in fields if f.kind == "choice" and f is not first]
    for field in ordered:
        sheet = book.add_worksheet(field.label.get(language)[:31].replace("/", "-"))
        sheet.write(0, 0, title_line(library, report), bold)
        table = field_table(report, field, language, t)
        for r, row in enumerate(table):
            sheet.write_row(r + 1, 0, row, bold if r in (0, len(table) - 1) else None)
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, len(table[0]), 14)
    sheet = book.add_worksheet(t("export.visitors_title")[:31])
    sheet.write(0, 0, title_line(library, report), bold)
    table = visitors_table(report, t)
    for r, row in enumerate(table):
        sheet.write_row(r + 1, 0, row, bold if r in (0, len(table) - 1) else None)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, len(table[0]), 16)
    book.close()
    return out.getvalue()
