"""Console pages that read the guestbook: Today (Hari ini), Reports (Laporan), exports."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kiosk.backend import kiosks
from kiosk.backend.console.charts import bar_chart
from kiosk.backend.console.i18n import translator
from kiosk.backend.console.web import PREFIX, Console, console_of, language_of, render, staff_of
from kiosk.backend.db import read_session
from kiosk.backend.provisioning import ProvisioningUnavailable
from kiosk.backend.provisioning.usage import UseTotals, period_total, record_of_use
from kiosk.backend.reports.dinas_export import visits_csv, visits_xlsx
from kiosk.backend.reports.dinas_pdf import cell_text, report_pdf
from kiosk.backend.reports.dinas_tables import DinasReport, dinas_report
from kiosk.backend.reports.skm import skm_dinas_report, skm_report
from kiosk.backend.reports.today import stats_for_day
from kiosk.backend.reports.visits import (
    BadPeriod,
    Period,
    named_period,
    parse_period,
    visit_report,
)
from kiosk.backend.steering.locations import Location, all_locations, find_location, kiosks_at

PERIODS = ("day", "month", "semester1", "semester2", "year", "custom")
log = logging.getLogger("kiosk.backend.console")


router = APIRouter(prefix=PREFIX)


def chosen_period(
    today: dt.date, period: str, date: str, start: str, end: str
) -> tuple[str, Period, str]:
    """The form's period kind, the period, and the error key ('' when the dates were fine:
    else this month)."""
    kind = period if period in PERIODS else "month"
    try:
        if kind == "custom":
            return kind, parse_period(start or None, end or None, today), ""
        anchor = dt.date.fromisoformat(date) if date else today
        return kind, named_period(kind, anchor), ""
    except (BadPeriod, ValueError):
        return kind, named_period("month", today), "reports.error.period"


@router.get("/")
def today(request: Request) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    day = console.today()
    now = console.clock()
    with read_session(console.engine) as session:
        stats = stats_for_day(session, day, console.timezone)
        report = visit_report(session, Period(day, day), console.choice_keys, console.timezone)
        kiosk_rows = kiosks.all_kiosks(session)
    alerts = kiosks.kiosk_alerts(kiosk_rows, now)
    try:
        console.desk.provisioner.check()
        network_down = ""
    except ProvisioningUnavailable as exc:
        network_down = str(exc)
    t = translator(language_of(request))
    # Opening hours, widened to any hour that had visits (a visit at 04:30 is counted above,
    # so it is on the chart too).
    first, last = min([6, *report.by_hour]), max([21, *report.by_hour])
    hours = [(f"{h:02d}", report.by_hour.get(h, 0)) for h in range(first, last + 1)]
    return render(
        console,
        request,
        "today.html",
        staff,
        day=day,
        stats=stats,
        report=report,
        fields=console.choice_fields,
        lang_code=language_of(request),
        kiosks=kiosk_rows,
        alerts=alerts,
        network_down=network_down,
        now=now,
        silent_after=kiosks.SILENT_AFTER,
        chart=bar_chart(hours, t("today.by_hour")),
    )


def period_form(
    console: Console, kind: str, chosen: Period, error: str, date: str, start: str, end: str
) -> dict[str, Any]:
    """What the period picker on Laporan and on the SKM page shows: the choice, its dates
    (the chosen period's own where the form left them empty, and always for a day, month,
    semester or year) and any error (then 400)."""
    if kind != "custom" and not error:
        start, end = chosen.first.isoformat(), chosen.last.isoformat()
    return {
        "status": 400 if error else 200,
        "error": error,
        "kind": kind,
        "periods": PERIODS,
        "chosen": chosen,
        "date": date or console.today().isoformat(),
        "start": start or chosen.first.isoformat(),
        "end": end or chosen.last.isoformat(),
    }


def located(session: Session, code: str) -> tuple[Location | None, list[str] | None]:
    """The location a report is filtered by and its kiosks (None, None: every kiosk)."""
    location = find_location(session, code)
    return (location, kiosks_at(session, location.code)) if location else (None, None)


def named(library: str, place: Location | None) -> str:
    """The library's name in a report's title, with the location it is filtered by."""
    return f"{library} - {place.name}" if place else library


@router.get("/reports")
def reports(
    request: Request,
    period: str = "month",
    date: str = "",
    start: str = "",
    end: str = "",
    location: str = "",
) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    kind, chosen, error = chosen_period(console.today(), period, date, start, end)
    with read_session(console.engine) as session:
        place, at = located(session, location)
        report = visit_report(session, chosen, console.choice_keys, console.timezone, at)
        places = all_locations(session)
    t = translator(language_of(request))
    charts = {
        "day": bar_chart(
            [(d.strftime("%d"), report.by_day.get(d, 0)) for d in chosen.days[:62]],
            t("reports.by_day"),
        )
        if len(chosen.days) <= 62
        else None,
        "hour": bar_chart(
            [(f"{h:02d}", report.by_hour.get(h, 0)) for h in range(24)], t("reports.by_hour")
        ),
        "weekday": bar_chart(
            [(t(f"weekday.{n}"), report.by_weekday.get(n, 0)) for n in range(7)],
            t("reports.by_weekday"),
        ),
    }
    return render(
        console,
        request,
        "reports.html",
        staff,
        **period_form(console, kind, chosen, error, date, start, end),
        report=report,
        fields=console.choice_fields,
        lang_code=language_of(request),
        charts=charts,
        locations=places,
        location=place.code if place else "",
        internet=internet_use(console, chosen),
    )


def export(request: Request, start: str, end: str) -> tuple[Period, str] | Response:
    console = console_of(request)
    staff = staff_of(console, request)
    try:
        chosen = parse_period(start or None, end or None, console.today())
    except BadPeriod as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain; charset=utf-8")
    del staff
    return chosen, language_of(request)


def download(data: bytes, media: str, name: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


PDF = "application/pdf"


@router.get("/reports/visits.csv")
def export_csv(request: Request, start: str = "", end: str = "") -> Response:
    return export_visits(request, start, end, "csv")


@router.get("/reports/visits.xlsx")
def export_xlsx(request: Request, start: str = "", end: str = "") -> Response:
    return export_visits(request, start, end, "xlsx")


@router.get("/reports/visits.pdf")
def export_pdf(request: Request, start: str = "", end: str = "") -> Response:
    return export_visits(request, start, end, "pdf")


def export_visits(request: Request, start: str, end: str, suffix: str) -> Response:
    """The period's report for the Dinas as a download (?from=YYYY-MM-DD&to=YYYY-MM-DD):
    the same tables as PDF, XLSX or CSV."""
    console = console_of(request)
    chosen = export(
        request, request.query_params.get("from", start), request.query_params.get("to", end)
    )
    if isinstance(chosen, Response):
        return chosen
    period, language = chosen
    t = translator(language)
    guest_fields = console.current().guests.fields
    keys = list(dict.fromkeys([*console.choice_keys, *(f.key for f in guest_fields)]))
    with read_session(console.engine) as session:
        place, at = located(session, request.query_params.get("location", ""))
        report = visit_report(session, period, keys, console.timezone, at)
    library = console.current().library
    tables: DinasReport = dinas_report(
        report,
        console.current().guestbook.fields,
        guest_fields,
        named(library.name, place),
        language,
        t,
        every_day=suffix != "pdf",
        internet_use=internet_use(console, period),
    )
    where = f"-{place.code}" if place else ""
    name = f"kunjungan{where}-{period.first}-{period.last}.{suffix}"
    if suffix == "pdf":
        data = report_pdf(tables, library, console.today(), language, t)
        return download(data, PDF, name)
    if suffix == "xlsx":
        return download(visits_xlsx(tables), XLSX, name)
    return download(visits_csv(tables), "text/csv; charset=utf-8", name)


def internet_use(console: Console, period: Period) -> UseTotals | None:
    """The period's record of use for the report; None without one (or when the RADIUS
    database does not answer: logged, and the report goes out with the other figures)."""
    record = record_of_use(console.desk.provisioner)
    if record is None:
        return None
    try:
        return period_total(record, period.first, period.last, console.timezone, console.clock())
    except ProvisioningUnavailable as exc:
        log.warning("dinas report %s: internet sessions left out: %s", period, exc)
        return None


@router.get("/reports/skm")
def skm_page(
    request: Request,
    period: str = "month",
    date: str = "",
    start: str = "",
    end: str = "",
    location: str = "",
) -> Response:
    """The satisfaction survey of a period: the IKM, its grade, the elements (weakest first)."""
    console = console_of(request)
    staff = staff_of(console, request)
    kind, chosen, error = chosen_period(console.today(), period, date, start, end)
    language = language_of(request)
    with read_session(console.engine) as session:
        place, at = located(session, location)
        survey = skm_report(session, chosen, at)
        places = all_locations(session)
    tables = skm_dinas_report(
        survey,
        console.current().guestbook.fields,
        console.current().guests.fields,
        named(console.current().library.name, place),
        language,
        translator(language),
    )
    return render(
        console,
        request,
        "skm.html",
        staff,
        **period_form(console, kind, chosen, error, date, start, end),
        survey=survey,
        tables=tables,
        locations=places,
        location=place.code if place else "",
        cell=lambda value: cell_text(value, language, translator(language)),
    )


@router.get("/reports/skm.pdf")
def skm_pdf(request: Request, start: str = "", end: str = "") -> Response:
    return export_skm(request, start, end, "pdf")


@router.get("/reports/skm.xlsx")
def skm_xlsx(request: Request, start: str = "", end: str = "") -> Response:
    return export_skm(request, start, end, "xlsx")


def export_skm(request: Request, start: str, end: str, suffix: str) -> Response:
    """The period's survey report, with the kop and the signatory (PDF) or as XLSX."""
    console = console_of(request)
    chosen = export(
        request, request.query_params.get("from", start), request.query_params.get("to", end)
    )
    if isinstance(chosen, Response):
        return chosen
    period, language = chosen
    t = translator(language)
    with read_session(console.engine) as session:
        place, at = located(session, request.query_params.get("location", ""))
        survey = skm_report(session, period, at)
    library = console.current().library
    tables = skm_dinas_report(
        survey,
        console.current().guestbook.fields,
        console.current().guests.fields,
        named(library.name, place),
        language,
        t,
    )
    name = f"skm{f'-{place.code}' if place else ''}-{period.first}-{period.last}.{suffix}"
    if suffix == "pdf":
        return download(report_pdf(tables, library, console.today(), language, t), PDF, name)
    return download(visits_xlsx(tables), XLSX, name)
