"""The check-in's SQL, built once: Core statements compiled once per database dialect into
what the driver's cursor takes (`DeskStatements`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from kiosk.backend.db import (
    ISSUING_LOCK,
    CredentialRow,
    GuestVisitRow,
    MemberRow,
    VisitAnswerRow,
    VisitRow,
)

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
        visits.c.id, visits.c.request_digest, sa.literal_column("'visit'", sa.String).label("kind")
    ).where(visits.c.client_ref == sa.bindparam("client_ref")),
    sa.select(
        guest_visits.c.id,
        guest_visits.c.request_digest,
        sa.literal_column("'guest'", sa.String).label("kind"),
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


def _insert(table: sa.Table, *names: str) -> sa.Insert:
    """INSERT of these columns, each a bind parameter of its column's type."""
    return sa.insert(table).values(
        {name: sa.bindparam(name, type_=table.c[name].type) for name in names}
    )


INSERT_CREDENTIAL = _insert(
    credentials,
    "member_id",
    "username",
    "password",
    "issued_at",
    "expires_at",
    "revoked",
    "pending",
    "kiosk_id",
).returning(credentials.c.id)
INSERT_VISIT = _insert(
    visits,
    "client_ref",
    "member_id",
    "kiosk_id",
    "occurred_at",
    "received_at",
    "answers",
    "want_internet",
    "credential_id",
    "credential_reused",
    "credential_given",
    "request_digest",
    "response",
    "local_day",
    "local_hour",
    "counted",
).returning(visits.c.id)
INSERT_ANSWERS = _insert(visit_answers, "visit_id", "field", "value", "local_day")

# A counted visit of the member inside the repeat window ([guestbook] repeat_window_minutes).
EARLIER_COUNTED_VISIT = (
    sa.select(visits.c.id)
    .where(
        visits.c.member_id == sa.bindparam("member_id"),
        visits.c.counted.is_(True),
        visits.c.occurred_at > sa.bindparam("since", type_=visits.c.occurred_at.type),
        visits.c.occurred_at <= sa.bindparam("until", type_=visits.c.occurred_at.type),
    )
    .limit(1)
)


Convert = Callable[[Any], Any]


class DriverStatement:
    """A Core statement compiled once for a dialect: the SQL text, the order its parameters
    go in (positional drivers) and each parameter's and result column's type conversion,
    taken from the statement's own types (UTC datetimes, SQLite's booleans and dates)."""

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        binds = compiled.binds
        # Positional drivers: the rendered names in order (a name may come twice); named
        # ones: every rendered name (SQLAlchemy also keys anonymous binds as "%(...)s").
        self.names: tuple[str, ...] = tuple(
            compiled.positiontup or [name for name in binds if not name.startswith("%(")]
        )
        # Values the statement carries itself (LIMIT 1, a literal): the caller gives the rest.
        self.defaults = {
            name: binds[name].effective_value for name in self.names if not binds[name].required
        }
        self.positional = bool(dialect.positional)
        converters = {
            name: binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in set(self.names)
        }
        self.converters: dict[str, Convert] = {
            name: convert for name, convert in converters.items() if convert is not None
        }
        # A SELECT's columns, an INSERT's RETURNING ones, none for a DELETE.
        columns = getattr(statement, "exported_columns", ())
        self.results: list[Convert | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self.converts_results = any(self.results)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """`values` by name, converted, in the form the driver takes."""
        converted = {**self.defaults, **values}
        for name, convert in self.converters.items():
            converted[name] = convert(converted[name])
        if self.positional:
            return tuple(converted[name] for name in self.names)
        return converted

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        """A result row with each column converted back from the driver's value."""
        if not self.converts_results:
            return raw
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(raw, self.results, strict=True)
        )


class DeskStatements:
    """The check-in's statements compiled for one engine's dialect (built once per desk)."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        self.member_locked = DriverStatement(MEMBER_LOCKED, dialect)
        self.earlier_entry = DriverStatement(EARLIER_ENTRY, dialect)
        self.member_credentials = DriverStatement(MEMBER_CREDENTIALS, dialect)
        self.username_taken = DriverStatement(USERNAME_TAKEN, dialect)
        self.delete_credential = DriverStatement(DELETE_CREDENTIAL, dialect)
        self.insert_credential = DriverStatement(INSERT_CREDENTIAL, dialect)
        self.insert_visit = DriverStatement(INSERT_VISIT, dialect)
        self.insert_answers = DriverStatement(INSERT_ANSWERS, dialect)
        self.earlier_counted_visit = DriverStatement(EARLIER_COUNTED_VISIT, dialect)
        self.issuing_lock = DriverStatement(ISSUING_LOCK, dialect)


def pending_first(
    rows: list[HeldCredential],
) -> tuple[HeldCredential | None, HeldCredential | None]:
    """(the pending reservation, the valid credential to reuse) among the member's rows."""
    pending = next((row for row in rows if row.pending), None)
    valid = next((row for row in rows if not row.pending), None)
    return pending, valid
