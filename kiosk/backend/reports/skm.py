"""The satisfaction survey's report (SKM, PermenPANRB 14/2017): NRR per element, IKM and grade."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import SatisfactionRow
from kiosk.backend.reports.dinas_tables import (
    Cell,
    DinasReport,
    Table,
    Translate,
    breakdowns,
    decimal,
    report_title,
)
from kiosk.backend.reports.visits import Period
from kiosk.config import GuestbookField
from kiosk.protocol import SKM_ELEMENTS, SKM_PROFILE_KEYS

# The annex's conversion table (nilai interval konversi, NRR x 25) and its grades: the lowest
# converted value of each grade, best first. A 88.31-100.00, B 76.61-88.30, C 65.00-76.60,
# D 25.00-64.99.
GRADES = (("88.31", "A"), ("76.61", "B"), ("65.00", "C"), ("0", "D"))


def grade_of(converted: float | Decimal) -> str:
    """The grade (mutu pelayanan) of a converted value (0-100, taken to two decimals)."""
    value = decimal(float(converted), 2)
    return next(letter for lowest, letter in GRADES if value >= Decimal(lowest))


@dataclass
class SkmReport:
    period: Period
    respondents: int = 0
    # element -> (how many answered it, the sum of their scores)
    answered: dict[str, int] = field(default_factory=dict)
    sums: dict[str, int] = field(default_factory=dict)
    profile: dict[str, Counter[str]] = field(default_factory=dict)

    def nrr(self, element: str) -> float | None:
        """The element's mean score (nilai rata-rata), None when nobody answered it."""
        count = self.answered.get(element, 0)
        return self.sums.get(element, 0) / count if count else None

    @property
    def ikm_unit(self) -> float | None:
        """The weighted sum of the NRRs (each weighs 1/9): their mean; elements nobody
        answered are left out (None when none was answered)."""
        values = [v for v in (self.nrr(e) for e in SKM_ELEMENTS) if v is not None]
        return sum(values) / len(values) if values else None

    @property
    def ikm(self) -> Decimal | None:
        """The converted IKM: the unit's value x 25, two decimals (half up)."""
        unit = self.ikm_unit
        return decimal(unit * 25, 2) if unit is not None else None


def skm_report(
    session: Session, period: Period, kiosks: Collection[str] | None = None
) -> SkmReport:
    """One grouped query per profile key and one for the nine elements' counts and sums;
    `kiosks`: only these kiosks' surveys (one location's)."""
    report = SkmReport(period)
    in_period = sa.and_(
        SatisfactionRow.local_day >= period.first,
        SatisfactionRow.local_day <= period.last,
        sa.true() if kiosks is None else SatisfactionRow.kiosk_id.in_(sorted(kiosks)),
    )
    columns = [getattr(SatisfactionRow, e) for e in SKM_ELEMENTS]
    row = session.execute(
        sa.select(
            sa.func.count(),
            *(sa.func.count(c) for c in columns),
            *(sa.func.coalesce(sa.func.sum(c), 0) for c in columns),
        ).where(in_period)
    ).one()
    report.respondents = int(row[0])
    for n, element in enumerate(SKM_ELEMENTS):
        report.answered[element] = int(row[1 + n])
        report.sums[element] = int(row[1 + len(SKM_ELEMENTS) + n])
    for key in SKM_PROFILE_KEYS:
        column = getattr(SatisfactionRow, key)
        counts: Counter[str] = Counter()
        for value, count in session.execute(
            sa.select(column, sa.func.count()).where(in_period).group_by(column)
        ):
            counts[value or ""] += int(count)
        report.profile[key] = counts
    return report


def profile_table(
    report: SkmReport, key: str, label: str, choices: list[tuple[str, str]], t: Translate
) -> Table:
    counts = report.profile.get(key, Counter())
    rows: list[list[Cell]] = [[text, counts.get(choice, 0)] for choice, text in choices]
    known = sum(counts.get(choice, 0) for choice, _ in choices)
    rows.append([t("export.unknown"), report.respondents - known])
    return Table(
        t("skm.by_profile", field=label[:1].lower() + label[1:]),
        [label, t("skm.respondents")],
        rows,
        [t("export.total"), report.respondents],
    )


def element_table(report: SkmReport, t: Translate) -> Table:
    """NRR per element, its weighted value (x 1/9) and its grade; the IKM as the last row."""
    rows: list[list[Cell]] = []
    for element in SKM_ELEMENTS:
        nrr = report.nrr(element)
        rows.append(
            [
                t(f"skm.{element}"),
                report.answered.get(element, 0),
                decimal(nrr, 2) if nrr is not None else "-",
                decimal(nrr / len(SKM_ELEMENTS), 3) if nrr is not None else "-",
                grade_of(nrr * 25) if nrr is not None else "-",
            ]
        )
    unit = report.ikm_unit
    total: list[Cell] = [
        t("skm.ikm_unit_row"),
        report.respondents,
        "",
        decimal(unit, 3) if unit is not None else "-",
        grade_of(unit * 25) if unit is not None else "-",
    ]
    header = [
        t("skm.element"),
        t("skm.respondents"),
        t("skm.nrr"),
        t("skm.weighted"),
        t("skm.grade"),
    ]
    return Table(t("skm.elements_title"), header, rows, total)


def summary_table(report: SkmReport, t: Translate) -> Table:
    """Respondents, the IKM (unit and converted), its grade and what the grade means."""
    ikm = report.ikm
    grade = grade_of(ikm) if ikm is not None else "-"
    unit = report.ikm_unit
    rows: list[list[Cell]] = [
        [t("skm.respondents"), report.respondents],
        [t("skm.ikm_unit"), decimal(unit, 4) if unit is not None else "-"],
        [t("skm.ikm_converted"), ikm if ikm is not None else "-"],
        [t("skm.grade"), grade],
        [t("skm.performance"), t(f"skm.grade.{grade}") if ikm is not None else "-"],
    ]
    return Table(t("skm.summary_title"), [t("export.internet.what"), t("skm.value")], rows, None)


def weakest_table(report: SkmReport, t: Translate) -> Table:
    """The elements from the weakest NRR up: where to improve first."""
    scored = [(report.nrr(e), e) for e in SKM_ELEMENTS]
    ranked = sorted((v, e) for v, e in scored if v is not None)
    rows: list[list[Cell]] = [[t(f"skm.{e}"), decimal(v, 2), grade_of(v * 25)] for v, e in ranked]
    header = [t("skm.element"), t("skm.nrr"), t("skm.grade")]
    return Table(t("skm.weakest_title"), header, rows, None)


def skm_dinas_report(
    report: SkmReport,
    member_fields: Sequence[GuestbookField],
    guest_fields: Sequence[GuestbookField],
    library: str,
    language: str,
    t: Translate,
) -> DinasReport:
    """The summary, the elements, the weakest first, then the respondents' profile."""
    tables = [summary_table(report, t), element_table(report, t), weakest_table(report, t)]
    for item in breakdowns(member_fields, guest_fields, language):
        if item.key in SKM_PROFILE_KEYS:
            tables.append(profile_table(report, item.key, item.label, item.choices, t))
    return DinasReport(report_title(report.period, t, "skm"), library, tables)
