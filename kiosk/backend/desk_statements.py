"""The check-in's SQL, built once: Core statements with bind parameters, so a check-in
neither builds a statement nor computes its cache key, and loads no ORM object.

A statement object keeps its cache key (SQLAlchemy memoises it), so executing one of these
costs a dictionary of values and the driver's call. The rare paths (a replay rebuilt after
the purge, a networked provisioner's confirm) keep the ORM.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, cast

import sqlalchemy as sa

from kiosk.backend.db import CredentialRow, GuestVisitRow, MemberRow, VisitAnswerRow, VisitRow

members = cast(sa.Table, MemberRow.__table__)
credentials = cast(sa.Table, CredentialRow.__table__)
visits = cast(sa.Table, VisitRow.__table__)
guest_visits = cast(sa.Table, GuestVisitRow.__table__)
visit_answers = cast(sa.Table, VisitAnswerRow.__table__)


class HeldCredential(NamedTuple):
    """A member's credential as the check-in reads it: shown, reused or waited for."""

    id: int
    username: str
    password: str
    expires_at: dt.datetime
    issued_at: dt.datetime
    pending: bool


# The member, locked (PostgreSQL: FOR UPDATE; SQLite's writer is alone anyway): concurrent
# check-ins of one member, and replays of one client_ref, queue here.
MEMBER_LOCKED = (
    sa.select(members.c.id, members.c.status, members.c.expires_on)
    .where(members.c.id == sa.bindparam("member_id"))
    .with_for_update()
)

# An earlier entry with this client_ref, as a member's visit or as a guest's: one query.
EARLIER_ENTRY = sa.union_all(
    sa.select(
        visits.c.id, visits.c.request_digest, sa.literal("visit", sa.String).label("kind")
    ).where(visits.c.client_ref == sa.bindparam("client_ref")),
    sa.select(
        guest_visits.c.id,
        guest_visits.c.request_digest,
        sa.literal("guest", sa.String).label("kind"),
    ).where(guest_visits.c.client_ref == sa.bindparam("client_ref")),
)

# The member's pending reservations and still-valid credentials, newest expiry first.
MEMBER_CREDENTIALS = (
    sa.select(
        credentials.c.id,
        credentials.c.username,
        credentials.c.password,
        credentials.c.expires_at,
        credentials.c.issued_at,
        credentials.c.pending,
    )
    .where(
        credentials.c.member_id == sa.bindparam("member_id"),
        sa.or_(
            credentials.c.pending.is_(True),
            sa.and_(
                credentials.c.revoked.is_(False),
                credentials.c.expires_at > sa.bindparam("now", type_=credentials.c.expires_at.type),
            ),
        ),
    )
    .order_by(credentials.c.expires_at.desc())
)

# Is a username taken, by a member's credential or a guest's voucher, ever?
USERNAME_TAKEN = sa.select(
    sa.or_(
        sa.exists().where(credentials.c.username == sa.bindparam("username")),
        sa.exists().where(guest_visits.c.username == sa.bindparam("username")),
    )
)

DELETE_CREDENTIAL = sa.delete(credentials).where(credentials.c.id == sa.bindparam("credential_id"))
INSERT_CREDENTIAL = sa.insert(credentials)
INSERT_VISIT = sa.insert(visits)
INSERT_ANSWERS = sa.insert(visit_answers)


def pending_first(
    rows: list[HeldCredential],
) -> tuple[HeldCredential | None, HeldCredential | None]:
    """(the pending reservation, the valid credential to reuse) among the member's rows."""
    pending = next((row for row in rows if row.pending), None)
    valid = next((row for row in rows if not row.pending), None)
    return pending, valid


def inserted_id(result: sa.Result[Any]) -> int:
    """The primary key of the row one of the inserts above just made."""
    key = cast(sa.CursorResult[Any], result).inserted_primary_key
    assert key is not None  # an insert of one row
    return int(key[0])
