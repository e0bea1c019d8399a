"""The audit log: every change a staff member makes (who, when, what, from where)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.console.tables import AuditRow

log = logging.getLogger("kiosk.backend.console.audit")


def record(
    session: Session, username: str, address: str, action: str, detail: str, now: dt.datetime
) -> None:
    session.add(
        AuditRow(
            at=now, username=username, address=address[:64], action=action, detail=detail[:500]
        )
    )
    log.info(
        "audit %s by=%r from=%s %s",
        action,
        username,
        address,
        detail[:200].encode("unicode_escape").decode(),
    )


def readable(detail: str, t: Callable[..., str]) -> str:
    """An entry's `key=value` detail in the page's words: "member=19000123 reused=True"
    reads "anggota 19000123, dipakai lagi: ya" (a key the catalog lacks stays as written)."""
    text = ""
    for token in detail.split():
        key, sep, value = token.partition("=")
        label = t(f"audit.field.{key}") if sep else key
        pair = bool(sep) and label != f"audit.field.{key}"
        if pair:
            token = f"{label} {({'True': t('yes'), 'False': t('no')}).get(value, value)}"
        if not text:
            text = token
        elif pair and not text.endswith(":"):
            text += ", " + token
        else:
            text += " " + token
    return text


def recent(session: Session, page: int, per_page: int = 50) -> tuple[list[AuditRow], int]:
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditRow)) or 0
    rows = session.scalars(
        sa.select(AuditRow).order_by(AuditRow.id.desc()).offset(page * per_page).limit(per_page)
    )
    return list(rows), int(total)
