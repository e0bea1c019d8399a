"""Member lookup, visits (the guestbook) and check-ins that issue or show again a credential."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.backend.db import (
    CredentialRow,
    MemberRow,
    VisitRow,
    read_session,
    write_session,
)
from kiosk.backend.desk.credentials import (
    credential_expiry,
    insert_credential,
    to_network,
    valid_credential,
)
from kiosk.backend.desk.member_lookup import LibraryDesk
from kiosk.backend.desk.outcomes import (
    AnswersTooLarge,
    ClientRefConflict,
    MemberNotAllowed,
    MemberNotFound,
    Outcome,
    Reserved,
    WaitForPending,
)
from kiosk.backend.desk.pending import (
    PENDING_POLL_SECONDS,
    PENDING_WAIT_SECONDS,
    lease_kept,
    lease_lapsed,
)
from kiosk.backend.desk.replays import checkin_replay, request_digest
from kiosk.backend.desk.statements import DeskStatements, HeldCredential, pending_first
from kiosk.backend.desk.transaction import DeskTransaction, desk_transaction
from kiosk.backend.library.link import LibraryUnavailable
from kiosk.backend.library.members import effective_status
from kiosk.backend.metrics import CREDENTIALS_ISSUED
from kiosk.backend.provisioning.base import (
    Provisioner,
    ProvisioningUnavailable,
    RadiusDatabaseDown,
)
from kiosk.backend.reports.visits import answer_values
from kiosk.cards import CardReader, NotAMemberCard
from kiosk.config import Settings
from kiosk.protocol import (
    COUNTER_KIOSK_ID,
    CheckinResponse,
    Credential,
    LookupResponse,
    Member,
    MemberStatus,
    Visit,
    VisitRequest,
)

log = logging.getLogger("kiosk.backend.checkins")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _none(_: str) -> None:
    return None  # NaN/Infinity kept by a database from before they were refused


class CheckinDesk:
    """The backend's front desk: one per app, shared by all request threads."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        provisioner: Provisioner,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.provisioner = provisioner
        # Does issuing cross the network? Only then is a credential reserved, issued outside
        # any transaction under a lease, and confirmed in a second one.
        self.remote = bool(getattr(provisioner, "remote", True))
        self.clock = clock
        self.cards = CardReader(settings.cards.pattern)
        self.timezone = ZoneInfo(settings.backend.timezone)
        self.library = LibraryDesk(settings, engine, self.timezone)
        self.statements = DeskStatements(engine.dialect)
        # Called while waiting for another check-in's pending credential (tests watch it).
        self.pause: Callable[[float], None] = time.sleep

    def follow(self, settings: Settings) -> None:
        """The console saved a new version: its guest policy, card pattern and repeat window
        hold from the next request (the library system and the network stay as started)."""
        self.settings = settings
        self.cards = CardReader(settings.cards.pattern)
        self.library.window = dt.timedelta(minutes=settings.guestbook.repeat_window_minutes)
        self.provisioner.follow(settings)

    @property
    def waits_on_network(self) -> bool:
        """Can a check-in wait on something across the network (a router, RADIUS, the
        library's database)? Decides route threads and whether the desk may use the loop."""
        return self.remote or self.library.copy is not None

    def writing_through(self, engine: Engine, pause: Callable[[float], None]) -> CheckinDesk:
        """This desk with its transactions on `engine` (another pool on the same database)
        and `pause` called where it would wait for a pending credential."""
        other = copy.copy(self)
        other.engine = engine
        other.pause = pause
        return other

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.timezone).date()

    def member_id(self, card: str) -> str:
        try:
            return self.cards.member_id(card)
        except NotAMemberCard:
            raise MemberNotFound("this is not a member card of this library") from None

    def member_model(self, row: MemberRow, now: dt.datetime) -> Member:
        status = effective_status(row.status, row.expires_on, self.today(now))
        return Member(id=row.id, name=row.name, status=status, expires_on=row.expires_on)

    # ------------------------------------------------------------ lookup

    def lookup(self, card: str) -> LookupResponse:
        member_id = self.member_id(card)
        now = self.clock()
        served_from = self.library.lookup(member_id, now)
        with read_session(self.engine) as session:
            row = session.get(MemberRow, member_id)
            if row is None and served_from == "copy":
                raise LibraryUnavailable(f"member {member_id} not in the local copy yet")
            if row is None or served_from == "gone":
                raise MemberNotFound(f"no member {member_id}")
            has_credential = valid_credential(session, member_id, now) is not None
            last = session.scalars(
                sa.select(VisitRow.answers)
                .where(VisitRow.member_id == member_id)
                .order_by(VisitRow.occurred_at.desc(), VisitRow.id.desc())
                .limit(1)
            ).first()
            return LookupResponse(
                member=self.member_model(row, now),
                has_credential=has_credential,
                last_answers=json.loads(last, parse_constant=_none) if last is not None else None,
                served_from=served_from,
            )

    # ------------------------------------------------------------ visits

    def record(self, request: VisitRequest, *, allow_credential: bool) -> Outcome:
        """A visit (allow_credential False: POST /visits) or a check-in (POST /checkins).

        A new credential is made in three short steps so that no database lock is held
        while the network side (a router, RADIUS) is slow: reserve it as pending, issue it,
        confirm it together with the visit. Other check-ins of the same member wait for
        the pending one and then reuse it; everyone else goes on meanwhile."""
        check_occurred_at(request.occurred_at, self.clock(), self.settings.privacy.retention_days)
        member_id = self.member_id(request.card)
        answers_json = json.dumps(request.answers, ensure_ascii=False, sort_keys=True)
        limit = self.settings.backend.max_answers_bytes
        if len(answers_json.encode("utf-8")) > limit:
            raise AnswersTooLarge(f"answers: larger than {limit} bytes")
        entry = _Entry(
            request, member_id, answers_json, request_digest(request, member_id), allow_credential
        )
        self.library.before_visit(member_id, self.clock())
        deadline = time.monotonic() + PENDING_WAIT_SECONDS
        waited = False
        while True:
            try:
                step = self._begin(entry, after_waiting=waited)
            except sa.exc.IntegrityError:
                # Only PostgreSQL gets here: a racing request with the same client_ref but
                # another member committed first. Run again to answer replay or conflict.
                step = self._begin(entry, after_waiting=waited)
            if not isinstance(step, WaitForPending):
                break
            if time.monotonic() > deadline:
                raise ProvisioningUnavailable(
                    f"member {member_id}: an earlier check-in is still at the network side"
                )
            waited = True
            self.pause(PENDING_POLL_SECONDS)  # a database row, not an event: poll it
        if isinstance(step, Outcome):
            return step
        try:
            with lease_kept(self.engine, step.credential_id, self.clock):
                self.provisioner.issue(step.network)
        except RadiusDatabaseDown as exc:
            log.warning(
                "check-in: %s unavailable (%s): credential %s kept for reconciliation",
                self.provisioner.name,
                exc,
                step.network.username,
            )
        except BaseException:
            self._release(step.credential_id)
            raise
        CREDENTIALS_ISSUED.inc()
        try:
            return self._confirm(entry, step)
        except sa.exc.IntegrityError:
            # PostgreSQL: another member's request took this client_ref in between.
            return self._confirm(entry, step)

    def _begin(self, entry: _Entry, *, after_waiting: bool) -> Outcome | Reserved | WaitForPending:
        request = entry.request
        statements = self.statements
        with desk_transaction(self.engine, statements) as desk:
            # Lock the member first: concurrent check-ins of one member (and replays of one
            # client_ref) queue here, so the reads below decide alone.
            member = desk.first(statements.member_locked, member_id=entry.member_id)
            replay = self._replay(desk, entry)
            if replay is not None:
                return replay
            if member is None:
                raise MemberNotFound(f"no member {entry.member_id}")
            member_id, member_status, member_expires_on = member
            now = self.clock()
            status = effective_status(member_status, member_expires_on, self.today(now))
            if not (entry.allow_credential and request.want_internet):
                return self._add_visit(desk, entry, now, None, reused=False)
            if status is not MemberStatus.active:
                raise MemberNotAllowed(status)
            held = [
                HeldCredential(*row)
                for row in desk.rows(statements.member_credentials, member_id=member_id, now=now)
            ]
            pending, existing = pending_first(held)
            if pending is not None:
                silent = lease_lapsed(pending.issued_at, now)
                if silent is None:
                    return WaitForPending()
                # Its owner died between reserving and confirming (a crash, a kill).
                log.warning(
                    "checkin member=%s: took over a reservation, silent %s", member_id, silent
                )
                desk.run(statements.delete_credential, credential_id=pending.id)
            if existing is not None:
                return self._add_visit(desk, entry, now, existing, reused=True)
            if after_waiting and pending is None:
                # The check-in we waited for could not get its credential to the network.
                raise ProvisioningUnavailable(
                    f"member {member_id}: the network side refused the credential just now"
                )
            if statements.postgresql:
                # One issuer at a time (unique random usernames, one credential per member);
                # SQLite's writer is alone already.
                desk.run(statements.issuing_lock)
            new = insert_credential(
                desk,
                self.settings.credentials,
                member_id,
                credential_expiry(
                    now, self.settings.credentials.valid_days, member_expires_on, self.timezone
                ),
                request.kiosk_id,
                now,
                pending=self.remote,
            )
            network = to_network(new)
            if not self.remote:
                # Nothing to wait for (the local provisioner): issue and record the visit in
                # this one transaction, with no reservation, lease or second transaction.
                self.provisioner.issue(network)
                CREDENTIALS_ISSUED.inc()
                return self._add_visit(desk, entry, now, new, reused=False)
            return Reserved(new.id, network, now)

    def _confirm(self, entry: _Entry, reserved: Reserved) -> Outcome:
        """The network has the credential: make it valid and record the visit, together."""
        with desk_transaction(self.engine, self.statements) as desk:
            session = desk.session
            row = session.get(CredentialRow, reserved.credential_id)
            replay = self._replay(desk, entry)
            if replay is not None or row is None:
                # Another member's request took this client_ref meanwhile, the member was
                # deleted, or another instance took the reservation over (our lease had
                # lapsed): this credential goes (reconciliation removes it upstream).
                if row is not None:
                    session.delete(row)
                if replay is not None:
                    return replay
                if session.get(MemberRow, entry.member_id) is None:
                    raise MemberNotFound(f"no member {entry.member_id}")
                raise ProvisioningUnavailable(
                    f"member {entry.member_id}: the reservation was taken over meanwhile"
                )
            row.pending = False
            row.issued_at = reserved.issued_at  # it held the lease's last renewal
            confirmed = HeldCredential(
                row.id, row.username, row.password, row.expires_at, row.issued_at, False
            )
            return self._add_visit(desk, entry, reserved.issued_at, confirmed, reused=False)

    def _release(self, credential_id: int) -> None:
        with write_session(self.engine) as session:
            session.execute(
                sa.delete(CredentialRow).where(
                    CredentialRow.id == credential_id, CredentialRow.pending.is_(True)
                )
            )

    def _replay(self, desk: DeskTransaction, entry: _Entry) -> Outcome | None:
        client_ref = str(entry.request.client_ref)
        earlier = desk.first(self.statements.earlier_entry, client_ref=client_ref)
        if earlier is None:
            return None
        visit_id, request_digest, kind = earlier
        if kind == "guest":
            raise ClientRefConflict(f"client_ref {client_ref} was already used for a guest")
        if request_digest != entry.digest:
            raise ClientRefConflict(
                f"client_ref {client_ref} was already used with a different body"
            )
        session = desk.session
        visit = session.get(VisitRow, visit_id)
        assert visit is not None  # under the member's lock, in this transaction
        return Outcome(checkin_replay(session, visit, self.clock()), True)

    def _add_visit(
        self,
        desk: DeskTransaction,
        entry: _Entry,
        now: dt.datetime,
        held: HeldCredential | None,
        *,
        reused: bool,
    ) -> Outcome:
        request = entry.request
        occurred_at = min(request.occurred_at.astimezone(dt.UTC), now)
        visit = Visit(
            client_ref=request.client_ref,
            member_id=entry.member_id,
            kiosk_id=request.kiosk_id,
            occurred_at=occurred_at,
            received_at=now,
            answers=request.answers,
            want_internet=request.want_internet,
        )
        credential = None
        if held is not None:
            credential = Credential(
                username=held.username,
                password=held.password,
                expires_at=held.expires_at,
                reused=reused,
            )
        response = CheckinResponse(visit=visit, credential=credential)
        body = response.model_dump_json()
        # A credential issued at the service counter is no guestbook visit: kept, not counted
        # (nor written to the library's guestbook); the reports count it on its own line.
        counted = request.kiosk_id != COUNTER_KIOSK_ID and self.library.counted(
            desk, entry.member_id, occurred_at
        )
        if counted:
            self.library.member_visit(desk, request, entry.member_id, occurred_at, now)
        local = occurred_at.astimezone(self.timezone)
        visit_id = desk.inserted(
            self.statements.insert_visit,
            client_ref=str(request.client_ref),
            member_id=entry.member_id,
            kiosk_id=request.kiosk_id,
            occurred_at=occurred_at,
            received_at=now,
            answers=entry.answers_json,
            want_internet=request.want_internet,
            credential_id=held.id if held is not None else None,
            credential_reused=reused,
            credential_given=held is not None,
            request_digest=entry.digest,
            response=body,
            local_day=local.date(),
            local_hour=local.hour,
            counted=counted,
        )
        if counted:  # a repeat visit is kept but stays out of reports
            rows = answer_values(visit_id, request.answers, local.date())
            if rows:
                desk.run_many(self.statements.insert_answers, rows)
        log.info(
            "%s member=%s kiosk=%s client_ref=%s credential=%s",
            "checkin" if entry.allow_credential else "visit",
            entry.member_id,
            request.kiosk_id,
            request.client_ref,
            "none" if held is None else ("reused" if reused else "issued"),
        )
        return Outcome(response, False, body)


@dataclass(frozen=True)
class _Entry:
    """One visit or check-in request, parsed once."""

    request: VisitRequest
    member_id: str
    answers_json: str
    digest: str
    allow_credential: bool


class OccurredAtOutOfRange(ValueError):
    """occurred_at is older than the library keeps visits (answered 422 invalid_request)."""


def check_occurred_at(occurred_at: dt.datetime, now: dt.datetime, retention_days: int) -> None:
    """Refuse a visit older than the retention: it would be purged at once, and a time at
    the start of the calendar is a broken clock or an attack, not a visit."""
    if occurred_at.astimezone(dt.UTC) < now - dt.timedelta(days=retention_days):
        raise OccurredAtOutOfRange(
            f"occurred_at: older than [privacy] retention_days ({retention_days} days); "
            "is the kiosk's clock right?"
        )
