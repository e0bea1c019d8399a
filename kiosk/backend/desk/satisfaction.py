"""Anonymous satisfaction surveys (POST /satisfaction): by day and kiosk, once per client_ref."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa

from kiosk.backend.db import SatisfactionRow, write_session
from kiosk.backend.desk.checkins import CheckinDesk, check_occurred_at
from kiosk.backend.desk.outcomes import SurveyRefReused
from kiosk.protocol import SKM_ELEMENTS, SatisfactionRequest, SatisfactionResponse

log = logging.getLogger("kiosk.backend.satisfaction")


def survey_digest(request: SatisfactionRequest) -> str:
    """What makes two surveys 'the same body' for a client_ref replay."""
    canonical: dict[str, Any] = request.model_dump(mode="json")
    canonical["occurred_at"] = request.occurred_at.astimezone(dt.UTC).isoformat()
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_survey(
    desk: CheckinDesk, request: SatisfactionRequest
) -> tuple[SatisfactionResponse, bool]:
    """The answer and whether it is a replay (200) rather than a new survey (201). Only the
    library's calendar day of occurred_at is kept, with the kiosk and the profile."""
    now = desk.clock()
    check_occurred_at(request.occurred_at, now, desk.settings.privacy.retention_days)
    digest = survey_digest(request)
    client_ref = str(request.client_ref)
    answer = SatisfactionResponse(client_ref=request.client_ref, received_at=now)
    with write_session(desk.engine) as session:
        earlier = session.scalar(
            sa.select(SatisfactionRow.request_digest).where(
                SatisfactionRow.client_ref == client_ref
            )
        )
        if earlier is not None:
            if earlier != digest:
                raise SurveyRefReused(
                    f"client_ref {client_ref} was already used with a different survey"
                )
            return answer, True
        profile = request.profile
        answers: dict[str, int] = {str(key): score for key, score in request.answers.items()}
        session.add(
            SatisfactionRow(
                client_ref=client_ref,
                kiosk_id=request.kiosk_id,
                local_day=request.occurred_at.astimezone(desk.timezone).date(),
                occupation=profile.get("occupation"),
                education=profile.get("education"),
                gender=profile.get("gender"),
                request_digest=digest,
                **{key: answers.get(key) for key in SKM_ELEMENTS},
            )
        )
    log.info("satisfaction survey kiosk=%s answered=%d", request.kiosk_id, len(request.answers))
    return answer, False
