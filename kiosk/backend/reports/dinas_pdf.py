"""A report for the Dinas as A4 PDF: the kop, the title, the tables, the date and the signatory."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from kiosk.backend.reports.dinas_tables import (
    Cell,
    DinasReport,
    Table,
    Translate,
    long_date,
)
from kiosk.config import LibrarySettings

# Debian's fonts-dejavu-core: every Latin letter a library's or a person's name may carry.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FONT = "DejaVu"
MARGIN = 18.0  # mm
HEAD_FILL = (230, 230, 230)
SIGNATURE_HEIGHT = 48.0  # mm the place, date, title, the space to sign, name and NIP take


class ReportPdf(FPDF):
    """A4 portrait with the page number in the footer ("Halaman 1 dari 3")."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        text = self.footer_text.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, text, align="R")


def number(value: int, language: str) -> str:
    """12.345 in Indonesian, 12,345 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if language == "id" else text


def cell_text(cell: Cell, language: str, t: Translate) -> str:
    if isinstance(cell, dt.date):
        return long_date(cell, t)
    if isinstance(cell, Decimal):
        return str(cell).replace(".", ",") if language == "id" else str(cell)
    if isinstance(cell, int):
        return number(cell, language)
    return cell


def new_pdf(t: Translate) -> ReportPdf:
    pdf = ReportPdf(t("dinas.page"))
    for style, name in FONTS.items():
        pdf.add_font(FONT, style, str(FONT_DIR / name))
    pdf.set_margins(MARGIN, 12, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.set_title(t("dinas.pdf_title"))
    return pdf


def letterhead(pdf: FPDF, library: LibrarySettings) -> None:
    """The kop: the logo at the left, the lines centred (the government and the agency in
    bold capitals, the address small), then a thick and a thin rule."""
    top = pdf.get_y()
    logo = Path(library.logo) if library.logo else None
    if logo is not None and logo.is_file():
        pdf.image(str(logo), x=MARGIN, y=top, h=24)
    lines = library.letterhead or [library.name]
    last = len(lines) - 1
    for n, line in enumerate(lines):
        address = n == last and len(lines) > 2
        pdf.set_font(FONT, "" if address else "B", 9 if address else (12 if n == 0 else 13))
        pdf.set_x(MARGIN + 26)
        pdf.multi_cell(pdf.epw - 52, 5.6, line, align="C", new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y(), top + 25) + 1.5
    pdf.set_line_width(0.8)
    pdf.line(MARGIN, y, pdf.w - MARGIN, y)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, y + 1.1, pdf.w - MARGIN, y + 1.1)
    pdf.set_y(y + 6)


def title(pdf: FPDF, text: str, library: str) -> None:
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 6, text.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5.5, library, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def draw_table(pdf: FPDF, n: int, table: Table, language: str, t: Translate) -> None:
    """A numbered section: its title, then the table (header repeated on a new page), the
    "Jumlah" row in bold, numbers to the right."""
    if pdf.get_y() > pdf.page_break_trigger - 30:
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 6, f"{chr(ord('A') + n)}. {table.title}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    columns = len(table.header)
    first = 50.0 if columns > 2 else 110.0
    widths = [first] + [(pdf.epw - first) / (columns - 1)] * (columns - 1)
    pdf.set_font(FONT, "", 8.5 if columns > 4 else 9.5)
    align = ["LEFT"] + ["RIGHT"] * (columns - 1)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        line_height=5.2,
        padding=(1.0, 1.5),
    ) as grid:
        head = grid.row()
        for text in table.header:
            head.cell(text, align="CENTER")
        for cells in table.rows:
            row = grid.row()
            for cell in cells:
                row.cell(cell_text(cell, language, t))
        if table.total is not None:
            row = grid.row()
            for cell in table.total:
                row.cell(cell_text(cell, language, t), style=bold)
    pdf.ln(5)


def signature(pdf: FPDF, library: LibrarySettings, signed_on: dt.date, t: Translate) -> None:
    """At the right: "Pangkalpinang, 1 Desember 2026", the title, room to sign, the name
    underlined and "NIP. …"; on a new page when it would not fit whole."""
    if pdf.get_y() + SIGNATURE_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    left, width = pdf.w - MARGIN - 80, 80.0
    signatory = library.signatory
    place = f"{library.city}, " if library.city else ""
    pdf.set_font(FONT, "", 10)
    for line in (place + long_date(signed_on, t), signatory.title):
        pdf.set_x(left)
        pdf.multi_cell(width, 5.5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(20)
    pdf.set_x(left)
    pdf.set_font(FONT, "BU" if signatory.name else "", 10)
    name = signatory.name or "(" + "." * 40 + ")"
    pdf.multi_cell(width, 5.5, name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.set_x(left)
    nip = f"{t('dinas.nip')} {signatory.nip}" if signatory.nip else f"{t('dinas.nip')} -"
    pdf.multi_cell(width, 5.5, nip, align="C", new_x="LMARGIN", new_y="NEXT")


def report_pdf(
    report: DinasReport,
    library: LibrarySettings,
    signed_on: dt.date,
    language: str,
    t: Translate,
) -> bytes:
    """The whole report: kop, title, every table, then the signature block."""
    pdf = new_pdf(t)
    pdf.add_page()
    letterhead(pdf, library)
    title(pdf, report.title, report.library)
    for n, table in enumerate(report.tables):
        draw_table(pdf, n, table, language, t)
    signature(pdf, library, signed_on, t)
    return bytes(pdf.output())
