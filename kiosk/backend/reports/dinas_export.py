"""The Dinas report's tables as CSV and XLSX: numbers as numbers, days as dates, text as text."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter  # type: ignore[import-untyped]

from kiosk.backend.reports.dinas_tables import Cell, DinasReport, Table

# A spreadsheet reads a cell starting with one of these as a formula: a CSV's text cell
# gets a leading apostrophe (XLSX cells are written as strings and need none).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(cell: Cell) -> str | int:
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, Decimal):
        return str(cell)
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def visits_csv(report: DinasReport) -> bytes:
    """The title and library, then every table under its title, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(report.title)])
    writer.writerow([csv_cell(report.library)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([csv_cell(table.title)])
        writer.writerow([csv_cell(h) for h in table.header])
        for row in table.rows:
            writer.writerow([csv_cell(c) for c in row])
        if table.total is not None:
            writer.writerow([csv_cell(c) for c in table.total])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # a BOM: Excel then reads UTF-8


def sheet_name(title: str, taken: set[str]) -> str:
    """At most 31 characters, none of []:*?/\\, unique in the book."""
    name = "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31].strip() or "Tabel"
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate = f"{name[:28]} {n}"
        n += 1
    taken.add(candidate.lower())
    return candidate


def visits_xlsx(report: DinasReport) -> bytes:
    """One sheet per table: the report's title, the library, the table's title, then the
    table with its "Jumlah" row; strings are never read as formulas."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    formats = {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "bold": book.add_format({"bold": True}),
        "head": book.add_format({"bold": True, "border": 1, "bg_color": "#E6E6E6", "text_wrap": 1}),
        "cell": book.add_format({"border": 1}),
        "date": book.add_format({"border": 1, "num_format": "yyyy-mm-dd"}),
        "total": book.add_format({"border": 1, "bold": True}),
    }
    taken: set[str] = set()
    for table in report.tables:
        sheet = book.add_worksheet(sheet_name(table.title, taken))
        sheet.write_string(0, 0, report.title, formats["title"])
        sheet.write_string(1, 0, report.library, formats["bold"])
        sheet.write_string(2, 0, table.title, formats["bold"])
        write_table(sheet, table, 4, formats)
        sheet.set_column(0, 0, 26)
        sheet.set_column(1, len(table.header) - 1, 16)
    book.close()
    return out.getvalue()


def write_table(sheet: object, table: Table, top: int, formats: dict[str, object]) -> None:
    write = sheet.write_string  # type: ignore[attr-defined]
    for c, head in enumerate(table.header):
        write(top, c, head, formats["head"])
    rows = list(table.rows) + ([table.total] if table.total is not None else [])
    for r, row in enumerate(rows, start=top + 1):
        is_total = table.total is not None and r == top + len(rows)
        for c, cell in enumerate(row):
            style = formats["total"] if is_total else formats["cell"]
            if isinstance(cell, dt.date):
                sheet.write_datetime(r, c, cell, formats["date"])  # type: ignore[attr-defined]
            elif isinstance(cell, Decimal):
                style = formats["total" if is_total else "cell"]
                sheet.write_number(r, c, float(cell), style)  # type: ignore[attr-defined]
            elif isinstance(cell, int):
                sheet.write_number(r, c, cell, style)  # type: ignore[attr-defined]
            else:
                write(r, c, cell, style)
