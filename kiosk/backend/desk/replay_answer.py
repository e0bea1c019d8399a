"""A replay's answer once the purge cleared the stored one (after 48 h): rebuilt from the visit."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy.orm import Session

from kiosk.backend.db import CredentialRow, VisitRow
from kiosk.backend.desk.credentials import is_valid
from kiosk.protocol import CheckinResponse, Credential, Visit


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
