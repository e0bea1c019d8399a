"""Pengaturan (admin): the settings every kiosk runs with, by section, with a preview of the
guestbook, the versions' history and restore, and the library's locations."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kiosk.backend.console import settings_form as sf
from kiosk.backend.console.i18n import translator
from kiosk.backend.console.web import (
    PREFIX,
    changing,
    console_of,
    language_of,
    log_change,
    render,
    see_other,
    staff_of,
)
from kiosk.backend.db import read_session, write_session
from kiosk.backend.steering import versions
from kiosk.backend.steering.locations import (
    Location,
    LocationError,
    all_locations,
    broken_locations,
    find_location,
    kiosk_locations,
    save_location,
)

router = APIRouter(prefix=PREFIX)


def _form(data: Any) -> dict[str, str]:
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _current(request: Request) -> versions.Version:
    console = console_of(request)
    return versions.current(console.engine, console.settings, console.clock())


def settings_page(
    request: Request,
    status: int = 200,
    *,
    section: str = "",
    draft: sf.Draft | None = None,
    location: dict[str, str] | None = None,
    refusals: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> Response:
    """The page; a refused section shows the admin's own input again, with its problems."""
    console = console_of(request)
    staff = staff_of(console, request, admin=True)
    current = _current(request)
    data = current.data
    t = translator(language_of(request))
    values = {q.path: sf.shown(q, sf.dig(data, q.path)) for qs in sf.SECTIONS.values() for q in qs}
    editors = {name: sf.question_rows(sf.dig(data, path)) for name, path in sf.EDITORS.items()}
    problems: list[tuple[str, str]] = list(refusals or [])
    if draft is not None:
        values.update(draft.raw)
        if section in sf.EDITORS and draft.questions:
            editors[section] = draft.questions
        order = {q.id: n for n, q in enumerate(q for qs in sf.SECTIONS.values() for q in qs)}
        ranked = sorted(draft.problems, key=lambda p: order.get(p[0], len(order)))
        problems += [(place, t(key, **vals)) for place, key, vals in ranked]
    with read_session(console.engine) as session:
        places = all_locations(session)
        placed = kiosk_locations(session)
    preview = draft.document if draft is not None and section == "guestbook" else data
    context: dict[str, Any] = {"notice": "", "stale": False, "based_on": current.number}
    context.update(extra)
    return render(
        console,
        request,
        "settings.html",
        staff,
        status,
        version=current,
        sections=sf.SECTIONS,
        editors=editors,
        editor_paths=sf.EDITORS,
        values=values,
        problems=[(place, _named(place, text, editors, t)) for place, text in problems],
        inline=dict(reversed(problems)),
        field_id=sf.field_id,
        section=section,
        preview_fields=preview["guestbook"]["fields"],
        preview=preview,
        locations=places,
        placed=placed,
        location_draft=location or {},
        overrides_text=lambda o: json.dumps(o, ensure_ascii=False, indent=2) if o else "",
        **context,
    )


def _named(place: str, message: str, editors: dict[str, list[Any]], t: Any) -> str:
    """The error summary's line: which input, then what is wrong with it."""
    labels = {q.id: t("settings.field." + q.path) for qs in sf.SECTIONS.values() for q in qs}
    labels.update({f"section-{name}": t(f"settings.section.{name}") for name in sf.SECTIONS})
    for key in ("code", "name", "room_code", "location_id", "overrides"):
        labels["loc-" + key.replace("_", "-")] = t(f"settings.location.{key}")
    for name, rows in editors.items():
        for i in range(len(rows)):
            for part in ("key", "label_id", "label_en", "choices", "position"):
                number = t("settings.question.number", n=i + 1)
                labels[sf.field_id(f"{sf.EDITORS[name]}.{i}.{part}")] = (
                    f"{number}, {t('settings.question.' + part)}"
                )
    label = labels.get(place)
    return t("settings.error.summary", field=label, message=message) if label else message


@router.get("/settings")
def settings_view(request: Request, notice: str = "", location: str = "") -> Response:
    """The page; ?location=CODE fills the location form with that location to change."""
    console = console_of(request)
    with read_session(console.engine) as session:
        found = find_location(session, location)
    draft = None
    if found is not None:
        draft = {
            "code": found.code,
            "name": found.name,
            "room_code": found.room_code,
            "location_id": ""
            if found.inlislite_location_id is None
            else str(found.inlislite_location_id),
            "overrides": json.dumps(found.overrides, ensure_ascii=False, indent=2),
        }
    return settings_page(request, notice=notice, location=draft)


def _save(request: Request, form: dict[str, str]) -> Response:
    console = console_of(request)
    staff = changing(console, request, form.get("csrf", ""), admin=True)
    section = form.get("section", "")
    if section not in sf.SECTIONS:
        return see_other(f"{PREFIX}/settings")
    based_on = int(form["version"]) if form.get("version", "").isdigit() else -1
    current = _current(request)
    draft = sf.read_section(section, form, current.data)
    document = sf.validate(section, draft)  # a value that could not be read kept the old one
    if document is None or draft.problems:
        return settings_page(request, 400, section=section, draft=draft, based_on=based_on)
    try:
        with write_session(console.engine) as session:
            broken = broken_locations(session, document)
            if broken:
                code, detail = broken[0]
                draft.problems.append(
                    (
                        "section-" + section,
                        "settings.error.location",
                        {"code": code, "detail": detail},
                    )
                )
                return settings_page(request, 400, section=section, draft=draft, based_on=based_on)
            saved = versions.save(session, document, based_on, staff.username, console.clock())
    except versions.StaleVersion as exc:
        draft.problems.append(
            (
                "section-" + section,
                "settings.error.stale",
                {"mine": exc.based_on, "now": exc.current},
            )
        )
        # The next save goes over the newer version: the admin has seen the message.
        return settings_page(
            request, 409, section=section, draft=draft, based_on=exc.current, stale=True
        )
    detail = f"version={saved.number} changed={','.join(saved.summary.split()) or '-'}"
    log_change(console, request, staff, "settings.save", detail)
    return see_other(f"{PREFIX}/settings?notice=settings.saved#section-{section}")


@router.post("/settings/save")
async def settings_save(request: Request) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_save, request, form)


@router.get("/settings/history")
def settings_history(request: Request, notice: str = "") -> Response:
    console = console_of(request)
    staff = staff_of(console, request, admin=True)
    rows = versions.history(console.engine)
    return render(
        console,
        request,
        "settings_history.html",
        staff,
        rows=rows,
        notice=notice,
        errors=[],
        summary_of=summary_of,
    )


def summary_of(summary: str, t: Any) -> str:
    """A version's description in the page's words (the changed keys stay as written)."""
    kind, _, rest = summary.partition(" ")
    if summary == versions.SEEDED_SUMMARY:
        return t("settings.summary.seeded")
    if kind in ("restored", "location") and rest:
        return t(f"settings.summary.{kind}", value=rest)
    return summary


def _restore(request: Request, form: dict[str, str]) -> Response:
    console = console_of(request)
    staff = changing(console, request, form.get("csrf", ""), admin=True)
    wanted = int(form["restore"]) if form.get("restore", "").isdigit() else -1
    based_on = int(form["version"]) if form.get("version", "").isdigit() else -1
    try:
        with write_session(console.engine) as session:
            old = versions.version_of(session, wanted)
            if old is None:
                return see_other(f"{PREFIX}/settings/history")
            saved = versions.save(
                session,
                old.document,
                based_on,
                staff.username,
                console.clock(),
                f"restored {wanted}",
            )
    except versions.StaleVersion:
        return see_other(f"{PREFIX}/settings/history?notice=settings.restore_stale")
    detail = f"version={saved.number} restored={wanted}"
    log_change(console, request, staff, "settings.restore", detail)
    return see_other(f"{PREFIX}/settings/history?notice=settings.restored")


@router.post("/settings/restore")
async def settings_restore(request: Request) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_restore, request, form)


def _location(request: Request, form: dict[str, str]) -> Response:
    console = console_of(request)
    staff = changing(console, request, form.get("csrf", ""), admin=True)
    t = translator(language_of(request))
    raw = {k: form.get(k, "").strip() for k in ("code", "name", "room_code", "location_id")}
    raw["overrides"] = form.get("overrides", "")

    def refused(place: str, message: str) -> Response:
        return settings_page(
            request,
            400,
            section="locations",
            location=raw,
            refusals=[(place, message)],
        )

    location_id = None
    if raw["location_id"]:
        if not raw["location_id"].isdigit():
            return refused("loc-location-id", t("settings.error.whole_number"))
        location_id = int(raw["location_id"])
    try:
        overrides = json.loads(raw["overrides"]) if raw["overrides"].strip() else {}
    except json.JSONDecodeError as exc:
        return refused("loc-overrides", t("settings.location.error.json", detail=str(exc)))
    if not isinstance(overrides, dict):
        return refused("loc-overrides", t("settings.location.error.json", detail="{ }"))
    current = _current(request)
    location = Location(raw["code"], raw["name"], raw["room_code"], location_id, overrides)
    try:
        with write_session(console.engine) as session:
            save_location(session, location, current.document)
            # A new version, so the Kios page can tell which kiosks have not fetched it yet.
            versions.save(
                session,
                current.document,
                current.number,
                staff.username,
                console.clock(),
                f"location {location.code}",
            )
    except versions.StaleVersion:
        return refused("section-locations", t("settings.restore_stale"))
    except LocationError as exc:
        place = "loc-" + exc.field.replace("_", "-")
        return refused(place, t(exc.key, detail=exc.detail))
    keys = ",".join(sf_keys(overrides)) or "-"
    log_change(
        console, request, staff, "location.save", f"location={location.code} overrides={keys}"
    )
    return see_other(f"{PREFIX}/settings?notice=settings.location_saved#section-locations")


def sf_keys(overrides: dict[str, Any]) -> list[str]:
    return versions.changed_keys({}, overrides)


@router.post("/settings/locations")
async def settings_location(request: Request) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_location, request, form)
