"""Registered kiosks: API tokens stored hashed, rename, revoke, and their heartbeat."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import KioskRow, read_session
from kiosk.protocol import HeartbeatRequest

SILENT_AFTER = dt.timedelta(minutes=5)
TOKEN_CACHE_SECONDS = 5.0


class KioskExists(ValueError):
    """A kiosk with this id is already registered."""


def token_hash(token: str) -> str:
    # Tokens are 32 random bytes: a plain SHA-256 cannot be searched back to them.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def register(session: Session, kiosk_id: str, name: str, now: dt.datetime) -> str:
    """Register (or re-register a revoked) kiosk; returns its new token, shown once."""
    token = secrets.token_urlsafe(32)
    row = session.get(KioskRow, kiosk_id)
    if row is not None and row.token_hash is not None and row.revoked_at is None:
        raise KioskExists(kiosk_id)
    if row is None:
        row = KioskRow(id=kiosk_id, name=name or kiosk_id, outbox_depth=0, dead_letters=0)
        row.camera, row.version = "unknown", ""
        session.add(row)
    row.name = name or row.name
    row.token_hash = token_hash(token)
    row.registered_at = now
    row.revoked_at = None
    return token


def revoke(session: Session, kiosk_id: str, now: dt.datetime) -> bool:
    row = session.get(KioskRow, kiosk_id)
    if row is None or row.token_hash is None:
        return False
    row.token_hash = None
    row.revoked_at = now
    return True


def rename(session: Session, kiosk_id: str, name: str) -> bool:
    row = session.get(KioskRow, kiosk_id)
    if row is None:
        return False
    row.name = name
    return True


def record_heartbeat(session: Session, beat: HeartbeatRequest, now: dt.datetime) -> None:
    """Store what a kiosk said about itself; an unknown kiosk id appears in the list."""
    row = session.get(KioskRow, beat.kiosk_id)
    if row is None:
        row = KioskRow(id=beat.kiosk_id, name=beat.kiosk_id)
        session.add(row)
    row.last_contact = now
    row.outbox_depth = beat.outbox_depth
    row.dead_letters = beat.dead_letters
    row.camera = beat.camera
    row.version = beat.version[:32]
    if beat.settings_version is not None:
        row.settings_version = beat.settings_version


def set_in_service(session: Session, kiosk_id: str, in_service: bool) -> bool:
    """Put a kiosk out of service or back (it learns it from its settings answer)."""
    row = session.get(KioskRow, kiosk_id)
    if row is None:
        return False
    row.in_service = in_service
    return True


def all_kiosks(session: Session) -> list[KioskRow]:
    return list(session.scalars(sa.select(KioskRow).order_by(KioskRow.id)))


@dataclass(frozen=True)
class KioskAlert:
    kiosk_id: str
    kind: str  # silent | dead_letters | camera
    value: str


def kiosk_alerts(kiosks: list[KioskRow], now: dt.datetime) -> list[KioskAlert]:
    alerts = []
    for row in kiosks:
        if row.last_contact is not None and now - row.last_contact > SILENT_AFTER:
            minutes = int((now - row.last_contact).total_seconds() // 60)
            alerts.append(KioskAlert(row.id, "silent", str(minutes)))
        if row.dead_letters:
            alerts.append(KioskAlert(row.id, "dead_letters", str(row.dead_letters)))
        if row.last_contact is not None and row.camera not in ("ok", "unknown"):
            alerts.append(KioskAlert(row.id, "camera", row.camera))
    return alerts


class RegisteredTokens:
    """Hashes of the registered kiosks' tokens, read from the database at most every few
    seconds (a revoke takes effect within TOKEN_CACHE_SECONDS on every instance)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self._hashes: dict[str, str] = {}
        self._loaded = -TOKEN_CACHE_SECONDS
        self._lock = threading.Lock()

    def kiosk_for(self, token: str) -> str | None:
        with self._lock:
            if self._clock() - self._loaded >= TOKEN_CACHE_SECONDS:
                self._reload()
            return self._hashes.get(token_hash(token))

    def _reload(self) -> None:
        try:
            with read_session(self.engine) as session:
                rows = session.execute(
                    sa.select(KioskRow.token_hash, KioskRow.id).where(
                        KioskRow.token_hash.is_not(None)
                    )
                )
                self._hashes = {str(digest): kiosk_id for digest, kiosk_id in rows}
        except sa.exc.SQLAlchemyError:
            return  # keep the last known set; the database check reports the outage
        self._loaded = self._clock()
