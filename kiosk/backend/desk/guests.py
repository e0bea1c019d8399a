"""Guest and group visits (POST /guest-visits) and the [guests] voucher policy, daily cap too."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import GuestVisitRow, VisitRow, lock_credential_issuing, write_session
from kiosk.backend.desk.checkins import CheckinDesk, check_occurred_at
from kiosk.backend.desk.credentials import choose_username, generate_password, username_taken
from kiosk.backend.desk.outcomes import AnswersTooLarge, ClientRefConflict
from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.reports.today import day_bounds
from kiosk.protocol import Credential, GuestVisit, GuestVisitRequest, GuestVisitResponse

log = logging.getLogger("kiosk.backend.guests")


class GuestInternetUnavailable(Exception):
    """[guests] internet is "none", or this kiosk gave its vouchers_per_day today."""


class GuestDesk:
    """Records guest visits; shares the member desk's engine, settings, network and clock."""

    def __init__(self, desk: CheckinDesk) -> None:
        self.desk = desk

    def record(self, request: GuestVisitRequest) -> tuple[GuestVisitResponse, bool]:
        """The answer and whether it is a replay (200) rather than a new visit (201)."""
        settings = self.desk.settings
        check_occurred_at(request.occurred_at, self.desk.clock(), settings.privacy.retention_days)
        answers_json = json.dumps(request.answers, ensure_ascii=False, sort_keys=True)
        limit = self.desk.settings.backend.max_answers_bytes
        if len(answers_json.encode("utf-8")) > limit:
            raise AnswersTooLarge(f"answers: larger than {limit} bytes")
        digest = guest_digest(request)
        with write_session(self.desk.engine) as session:
            earlier = _replay(session, request, digest, self.desk.clock())
            if earlier is not None:
                return earlier, True
            now = self.desk.clock()
            row = self._new_row(session, request, answers_json, digest, now)
            if request.want_internet:
                self._reserve_voucher(session, row, now)
            session.add(row)
            # A group: one row of INLISLite's groupguesses (SLiMS: one visitor_count row).
            self.desk.library.visit_recorded(
                session,
                client_ref=row.client_ref,
                member_id=None,
                name=row.name,
                institution=row.institution or None,
                occurred_at=row.occurred_at,
                kiosk_id=row.kiosk_id,
                answers=request.answers,
                now=now,
                group_size=request.group_size,
            )
            session.flush()
            row_id = row.id
            network = _network(row)
            row.response = _response(row).model_dump_json()
        if network is not None:
            try:
                self.desk.provisioner.issue(network)
            except BaseException:
                self._drop_voucher(row_id)
                raise
            self._confirm_voucher(row_id)
        log.info(
            "guest visit kiosk=%s client_ref=%s group_size=%d voucher=%s",
            request.kiosk_id,
            request.client_ref,
            request.group_size,
            "issued" if network is not None else "none",
        )
        return GuestVisitResponse.model_validate_json(row.response), False

    def _new_row(
        self,
        session: Session,
        request: GuestVisitRequest,
        answers_json: str,
        digest: str,
        now: dt.datetime,
    ) -> GuestVisitRow:
        return GuestVisitRow(
            client_ref=str(request.client_ref),
            name=request.name,
            institution=request.institution,
            group_size=request.group_size,
            kiosk_id=request.kiosk_id,
            occurred_at=min(request.occurred_at.astimezone(dt.UTC), now),
            received_at=now,
            answers=answers_json,
            want_internet=request.want_internet,
            revoked=False,
            pending=False,
            request_digest=digest,
            response="",
        )

    def _reserve_voucher(self, session: Session, row: GuestVisitRow, now: dt.datetime) -> None:
        guests = self.desk.settings.guests
        if guests.internet != "voucher":
            raise GuestInternetUnavailable("this library gives guests no internet at the kiosk")
        lock_credential_issuing(session)
        start, end = day_bounds(self.desk.today(now), self.desk.timezone)
        given = session.scalar(
            sa.select(sa.func.count())
            .select_from(GuestVisitRow)
            .where(
                GuestVisitRow.kiosk_id == row.kiosk_id,
                GuestVisitRow.username.is_not(None),
                GuestVisitRow.received_at >= start,
                GuestVisitRow.received_at < end,
            )
        )
        if int(given or 0) >= guests.vouchers_per_day:
            raise GuestInternetUnavailable(
                f"kiosk {row.kiosk_id} gave its {guests.vouchers_per_day} guest vouchers today"
            )
        settings = self.desk.settings.credentials
        row.username = choose_username(
            settings.model_copy(update={"username_style": "random"}),
            "",
            lambda name: username_taken(session, name),
        )
        row.password = generate_password(settings.password_length)
        row.expires_at = now + dt.timedelta(hours=guests.voucher_hours)
        row.pending = True

    def _drop_voucher(self, row_id: int) -> None:
        """The network side refused: the visit stays, without a voucher, for replays."""
        with write_session(self.desk.engine) as session:
            row = session.get(GuestVisitRow, row_id)
            if row is None:
                return
            row.username = row.password = row.expires_at = None
            row.pending = False
            row.response = _response(row).model_dump_json()

    def _confirm_voucher(self, row_id: int) -> None:
        with write_session(self.desk.engine) as session:
            row = session.get(GuestVisitRow, row_id)
            if row is not None:
                row.pending = False


def _network(row: GuestVisitRow) -> NetworkCredential | None:
    if row.username is None or row.password is None or row.expires_at is None:
        return None
    return NetworkCredential(
        username=row.username,
        password=row.password,
        expires_at=row.expires_at,
        kind="group" if row.group_size > 1 else "guest",
    )


def _response(row: GuestVisitRow, valid_at: dt.datetime | None = None) -> GuestVisitResponse:
    """The answer for the row; with `valid_at`, the voucher only while it is valid then."""
    credential = None
    gone = valid_at is not None and (row.revoked or (row.expires_at or valid_at) <= valid_at)
    if not gone and row.username and row.password is not None and row.expires_at is not None:
        credential = Credential(
            username=row.username, password=row.password, expires_at=row.expires_at, reused=False
        )
    visit = GuestVisit(
        client_ref=uuid.UUID(row.client_ref),
        name=row.name,
        institution=row.institution,
        group_size=row.group_size,
        kiosk_id=row.kiosk_id,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        answers=json.loads(row.answers),
        want_internet=row.want_internet,
    )
    return GuestVisitResponse(visit=visit, credential=credential)


def _replay(
    session: Session, request: GuestVisitRequest, digest: str, now: dt.datetime
) -> GuestVisitResponse | None:
    client_ref = str(request.client_ref)
    member_visit = session.scalar(sa.select(VisitRow.id).where(VisitRow.client_ref == client_ref))
    if member_visit is not None:
        raise ClientRefConflict(f"client_ref {client_ref} was already used for a member's visit")
    earlier = session.scalars(
        sa.select(GuestVisitRow).where(GuestVisitRow.client_ref == client_ref)
    ).first()
    if earlier is None:
        return None
    if earlier.request_digest != digest:
        raise ClientRefConflict(f"client_ref {client_ref} was already used with a different body")
    if not earlier.response:  # cleared by the privacy purge after 48 h: rebuilt
        return _response(earlier, valid_at=now)
    return GuestVisitResponse.model_validate_json(earlier.response)


def guest_digest(request: GuestVisitRequest) -> str:
    """What makes two guest requests 'the same body' for a client_ref replay."""
    canonical: dict[str, Any] = request.model_dump(mode="json")
    canonical["occurred_at"] = request.occurred_at.astimezone(dt.UTC).isoformat()
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
