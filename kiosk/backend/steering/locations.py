"""The library's locations (reading rooms, branches): where a kiosk stands, the location's
codes in SLiMS and INLISLite, and its settings overrides."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import KioskRow
from kiosk.backend.steering.tables import LocationRow
from kiosk.config import ConfigError, merge_sections
from kiosk.config.steered import SteeredSettings, parse_steered
from kiosk.protocol import LOCATION_PATTERN

_CODE = re.compile(LOCATION_PATTERN)


class LocationError(ValueError):
    """A location that cannot be saved; `key` names the console's message, `field` the input."""

    def __init__(self, key: str, field_name: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key
        self.field = field_name
        self.detail = detail


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    room_code: str = ""
    inlislite_location_id: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Place:
    """Where a kiosk's visits are written in the library's system: None means the global
    [members.slims] room_code / [members.inlislite] location_id."""

    room_code: str | None = None
    location_id: int | None = None


def _location(row: LocationRow) -> Location:
    overrides = json.loads(row.overrides or "{}")
    return Location(row.code, row.name, row.room_code, row.inlislite_location_id, overrides)


def location_of(session: Session, kiosk_id: str) -> str:
    """The location code of a kiosk ("" for none): set by its enrollment code, moved on the
    Kios page."""
    code = session.scalar(sa.select(KioskRow.location).where(KioskRow.id == kiosk_id))
    return code or ""


def place_kiosk(session: Session, kiosk_id: str, code: str) -> None:
    """Put a kiosk in a location ("" takes it out of any)."""
    if code and session.get(LocationRow, code) is None:
        raise LocationError("settings.location.error.unknown", "location", code)
    row = session.get(KioskRow, kiosk_id)
    if row is None:  # a kiosk with a config.toml token, not heard from yet
        row = KioskRow(id=kiosk_id, name=kiosk_id)
        session.add(row)
    row.location = code


def kiosks_at(session: Session, code: str) -> list[str]:
    return list(
        session.scalars(
            sa.select(KioskRow.id).where(KioskRow.location == code).order_by(KioskRow.id)
        )
    )


def kiosk_locations(session: Session) -> dict[str, str]:
    rows = session.execute(sa.select(KioskRow.id, KioskRow.location).where(KioskRow.location != ""))
    return {str(kiosk_id): str(code) for kiosk_id, code in rows}


def all_locations(session: Session) -> list[Location]:
    rows = session.scalars(sa.select(LocationRow).order_by(LocationRow.code))
    return [_location(row) for row in rows]


def find_location(session: Session, code: str) -> Location | None:
    row = session.get(LocationRow, code) if code else None
    return None if row is None else _location(row)


def place_of(session: Session, kiosk_id: str) -> Place:
    """The SLiMS room code and INLISLite Location_Id of a kiosk's location."""
    found = find_location(session, location_of(session, kiosk_id))
    if found is None:
        return Place()
    return Place(found.room_code or None, found.inlislite_location_id)


def effective(document: SteeredSettings, overrides: dict[str, Any]) -> SteeredSettings:
    """The library's document with a location's overrides merged over it, validated whole."""
    if not overrides:
        return document
    merged = merge_sections(document.model_dump(mode="json"), overrides)
    return parse_steered(merged, "location overrides")


def save_location(session: Session, location: Location, library: SteeredSettings) -> None:
    """Add or change a location; refuses a bad code, room code or overrides."""
    if not location.code or not _CODE.match(location.code):
        raise LocationError("settings.location.error.code", "code")
    if not location.name.strip():
        raise LocationError("settings.location.error.name", "name")
    if len(location.room_code) > 5:
        raise LocationError("settings.location.error.room_code", "room_code")
    try:
        effective(library, location.overrides)
    except ConfigError as exc:
        raise LocationError("settings.location.error.overrides", "overrides", str(exc)) from None
    row = session.get(LocationRow, location.code)
    if row is None:
        row = LocationRow(code=location.code)
        session.add(row)
    row.name = location.name.strip()[:200]
    row.room_code = location.room_code
    row.inlislite_location_id = location.inlislite_location_id
    row.overrides = json.dumps(location.overrides, ensure_ascii=False, sort_keys=True)


def broken_locations(session: Session, library: SteeredSettings) -> list[tuple[str, str]]:
    """(code, problem) for each location whose overrides would not fit this document."""
    broken = []
    for location in all_locations(session):
        try:
            effective(library, location.overrides)
        except ConfigError as exc:
            broken.append((location.code, str(exc)))
    return broken
