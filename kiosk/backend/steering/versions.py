"""The settings document's versions: seeded from config.toml, saved, compared and restored."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import read_session, write_session
from kiosk.backend.steering.tables import SettingsVersionRow
from kiosk.config import Settings
from kiosk.config.steered import SteeredSettings, parse_steered, steered_from

SEEDED_BY = "config.toml"
SEEDED_SUMMARY = "seeded from config.toml"


class StaleVersion(Exception):
    """The form was based on an older version than the current one: nothing was saved."""

    def __init__(self, based_on: int, current: int) -> None:
        super().__init__(f"based on version {based_on}, current is {current}")
        self.based_on = based_on
        self.current = current


@dataclass(frozen=True)
class Version:
    number: int
    document: SteeredSettings
    username: str
    saved_at: dt.datetime
    summary: str

    @property
    def data(self) -> dict[str, Any]:
        return self.document.model_dump(mode="json")


@functools.lru_cache(maxsize=16)
def _parsed(number: int, text: str) -> SteeredSettings:
    """A stored document, validated once (every kiosk's heartbeat reads the newest)."""
    return parse_steered(json.loads(text), f"settings version {number}")


def _version(row: SettingsVersionRow) -> Version:
    document = _parsed(row.version, row.document)
    return Version(row.version, document, row.username, row.saved_at, row.summary)


def _newest(session: Session) -> SettingsVersionRow | None:
    return session.scalars(
        sa.select(SettingsVersionRow).order_by(SettingsVersionRow.version.desc()).limit(1)
    ).first()


def _canonical(document: SteeredSettings) -> str:
    return json.dumps(document.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def current(engine: Engine, settings: Settings, now: dt.datetime) -> Version:
    """The newest version; on the first start, version 0 stored from config.toml's values."""
    with read_session(engine) as session:
        row = _newest(session)
    if row is not None:
        return _version(row)
    try:
        with write_session(engine) as session:
            row = _newest(session)  # another instance may have seeded it meanwhile
            if row is None:
                row = SettingsVersionRow(
                    version=0,
                    document=_canonical(steered_from(settings)),
                    username=SEEDED_BY,
                    saved_at=now,
                    summary=SEEDED_SUMMARY,
                )
                session.add(row)
    except sa.exc.IntegrityError:  # PostgreSQL: another instance seeded it at the same time
        with read_session(engine) as session:
            row = _newest(session)
        assert row is not None
    return _version(row)


def changed_keys(before: Any, after: Any, path: str = "") -> list[str]:
    """The dotted keys whose values differ ("guestbook.fields", "screens.timeouts.lookup");
    lists compare whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            keys += changed_keys(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return keys
    return [] if before == after else [path or "(all)"]


def save(
    session: Session,
    document: SteeredSettings,
    based_on: int,
    username: str,
    now: dt.datetime,
    summary: str = "",
) -> Version:
    """A new version after `based_on`, or StaleVersion when another save came first. Call in
    a write_session (SQLite: one writer at a time; PostgreSQL: the version is the key)."""
    row = _newest(session)
    newest = row.version if row is not None else -1
    if based_on != newest:
        raise StaleVersion(based_on, newest)
    if not summary and row is not None:
        summary = " ".join(changed_keys(_version(row).data, document.model_dump(mode="json")))
    new = SettingsVersionRow(
        version=newest + 1,
        document=_canonical(document),
        username=username,
        saved_at=now,
        summary=(summary or "-")[:500],
    )
    session.add(new)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # PostgreSQL: another save took this number meanwhile
        raise StaleVersion(based_on, newest + 1) from None
    return _version(new)


def history(engine: Engine, limit: int = 50) -> list[Version]:
    with read_session(engine) as session:
        rows = session.scalars(
            sa.select(SettingsVersionRow).order_by(SettingsVersionRow.version.desc()).limit(limit)
        )
        return [_version(row) for row in rows]


def version_of(session: Session, number: int) -> Version | None:
    row = session.get(SettingsVersionRow, number)
    return None if row is None else _version(row)
