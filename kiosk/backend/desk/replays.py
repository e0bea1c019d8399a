"""Replays of a client_ref: what makes two requests the same body, and the answer rebuilt from
the visit once the purge cleared the stored one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from kiosk.backend.db import CredentialRow, VisitRow
from kiosk.backend.desk.credentials import is_valid
from kiosk.protocol import CheckinResponse, Credential, Visit, VisitRequest


def checkin_replay(session: Session, row: VisitRow, now: dt.datetime) -> CheckinResponse:
    """The first answer as stored, or, after the purge, the same visit with its credential
    only while that is still valid (a password is never kept past that for a replay)."""
    if row.response:
        return CheckinResponse.model_validate_json(row.response)
    visit = Visit(
        client_ref=uuid.UUID(row.client_ref),
        member_id=row.member_id,
        kiosk_id=row.kiosk_id,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        answers=json.loads(row.answers, parse_constant=lambda _: None),
        want_internet=row.want_internet,
    )
    credential = None
    held = session.get(CredentialRow, row.credential_id) if row.credential_id else None
    if held is not None and held.password and is_valid(held, now):
        credential = Credential(
            username=held.username,
            password=held.password,
            expires_at=held.expires_at,
            reused=row.credential_reused,
        )
    return CheckinResponse(visit=visit, credential=credential)


def request_digest(request: VisitRequest, member_id: str) -> str:
    """What makes two requests 'the same body' for a client_ref replay."""
    canonical: dict[str, Any] = {
        "member_id": member_id,
        "answers": request.answers,
        "want_internet": request.want_internet,
        "kiosk_id": request.kiosk_id,
        "occurred_at": request.occurred_at.astimezone(dt.UTC).isoformat(),
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
