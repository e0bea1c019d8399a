"""The backend database: SQLAlchemy engine (SQLite or PostgreSQL), tables, migrations, writers."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled PostgreSQL connection is pinged before use only after this long unused: one that
# is in use many times a second is alive, and a ping on every checkout was a fifth of a
# check-in's round trips (see ping_when_idle).
IDLE_PING_SECONDS = 2.0
# One lock per SQLite file URL for this process's writers (see write_session).
_WRITERS: dict[str, threading.RLock] = {}
# PostgreSQL advisory lock that serialises credential issuing (see ISSUING_LOCK).
ISSUING_LOCK_KEY = 4715001


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware datetimes stored as naive UTC (SQLite keeps no offsets), read back as UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # As the library's file says; expiry by date is applied on reading (members.py).
    status: Mapped[str] = mapped_column(sa.String(16))
    expires_on: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    institution: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    # From the library's system (SLiMS birth_date, INLISLite DateOfBirth); CSV leaves it empty.
    birth_date: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    # The guest form's gender choice key, from the library's system or the members file
    # (SLiMS gender, INLISLite Sex_id); NULL: not known. The reports count members by it.
    gender: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CredentialRow(Base):
    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    password: Mapped[str] = mapped_column(sa.String(128))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    revoked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Reserved while the network side is being asked; never shown, never reused.
    pending: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64))


class VisitRow(Base):
    __tablename__ = "visits"
    __table_args__ = (
        sa.Index("ix_visits_member_occurred", "member_id", "occurred_at"),
        # The reports count each member's visits of a period (members by gender) from this.
        sa.Index("ix_visits_member_day", "member_id", "local_day", "counted", "kiosk_id"),
        sa.Index("ix_visits_local_day", "local_day", "local_hour", "kiosk_id", "counted"),
        # The reports' internet counts read only this (credentials made, shown again, counter).
        sa.Index(
            "ix_visits_day_credential",
            "local_day",
            "kiosk_id",
            "credential_given",
            "credential_reused",
            "counted",
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    client_ref: Mapped[str] = mapped_column(sa.String(36), unique=True)
    # No foreign key: the guestbook is a record of what happened and outlives a member row.
    member_id: Mapped[str] = mapped_column(sa.String(64))
    kiosk_id: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answers: Mapped[str] = mapped_column(sa.Text)
    want_internet: Mapped[bool] = mapped_column(sa.Boolean)
    credential_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("credentials.id", ondelete="SET NULL"), nullable=True
    )
    credential_reused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Whether the visit came with a credential: the reports count it after the purge has
    # unlinked credential_id (it names no one).
    credential_given: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # What a replay of the same client_ref must match, and the first answer it gets back.
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    response: Mapped[str] = mapped_column(sa.Text)
    # The library's calendar day and hour of occurred_at ([backend] timezone), so reports
    # group by plain indexed columns instead of converting every row's time.
    local_day: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    local_hour: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    # False for a repeat inside [guestbook] repeat_window_minutes: kept, not counted.
    counted: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class GuestVisitRow(Base):
    """A non-member's or a group's guestbook entry (POST /guest-visits), with the guest's
    Wi-Fi voucher when [guests] internet = "voucher" gave one. Kept apart from `visits`
    so members, guests and groups are counted separately (group_size > 1: a group)."""

    __tablename__ = "guest_visits"
    __table_args__ = (sa.Index("ix_guest_visits_kiosk_received", "kiosk_id", "received_at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    client_ref: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    institution: Mapped[str] = mapped_column(sa.String(80))
    group_size: Mapped[int] = mapped_column(sa.Integer, default=1)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answers: Mapped[str] = mapped_column(sa.Text)
    want_internet: Mapped[bool] = mapped_column(sa.Boolean)
    # The voucher (all NULL when none was given); reconciliation hands it to the network.
    username: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    password: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    pending: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    response: Mapped[str] = mapped_column(sa.Text)


class VisitAnswerRow(Base):
    """One guestbook answer of a visit (a choice key, or text cut to 80 characters)."""

    __tablename__ = "visit_answers"
    __table_args__ = (sa.Index("ix_visit_answers_field_day", "field", "local_day", "value"),)

    visit_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(80))
    local_day: Mapped[dt.date] = mapped_column(sa.Date)


class SatisfactionRow(Base):
    """One anonymous satisfaction survey (SKM) from a kiosk: the day, the kiosk, the nine
    scores (NULL: skipped) and the respondent's profile; never who answered."""

    __tablename__ = "satisfaction"
    __table_args__ = (sa.Index("ix_satisfaction_local_day", "local_day"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    client_ref: Mapped[str] = mapped_column(sa.String(36), unique=True)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64))
    local_day: Mapped[dt.date] = mapped_column(sa.Date)
    u1: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u2: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u3: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u4: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u5: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u6: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u7: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u8: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    u9: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    occupation: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    education: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    gender: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    request_digest: Mapped[str] = mapped_column(sa.String(64))


class KioskRow(Base):
    """A registered kiosk: its hashed API token and what its last heartbeat said."""

    __tablename__ = "kiosks"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, unique=True)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_contact: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outbox_depth: Mapped[int] = mapped_column(sa.Integer, default=0)
    dead_letters: Mapped[int] = mapped_column(sa.Integer, default=0)
    camera: Mapped[str] = mapped_column(sa.String(32), default="unknown")
    version: Mapped[str] = mapped_column(sa.String(32), default="")
    # Put out of service from the console: the kiosk shows a closed screen (settings answer).
    in_service: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # The settings version the kiosk last said it runs (its heartbeat); None: not said yet.
    settings_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # The location (reading room, branch) it was enrolled for; "" = none.
    location: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")


class WritebackRow(Base):
    """A visit waiting to be written to the library's own guestbook table (SLiMS
    visitor_count, INLISLite memberguesses); added in the visit's own transaction."""

    __tablename__ = "library_writeback"
    __table_args__ = (sa.Index("ix_library_writeback_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    # One entry per visit, whatever replays the kiosk sends.
    client_ref: Mapped[str] = mapped_column(sa.String(36), unique=True)
    system: Mapped[str] = mapped_column(sa.String(16))
    payload: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(8), default="waiting")  # waiting|written|failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A drainer's claim, so two backend instances never write the same entry at once.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    written_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LibraryContactRow(Base):
    """The last time the library's database answered and the last time it did not (lookups,
    write-backs, syncs): what /health says of it, whichever process made the contact."""

    __tablename__ = "library_contact"

    system: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


# ------------------------------------------------------------------ engine


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory or another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_sqlite_file(path: Path) -> None:
    # Patron data: the file (and SQLite's -wal/-shm, which copy its mode) is owner-only.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def create_db_engine(
    url: str, *, pool_size: int = 20, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """An engine for `[backend] database_url`; SQLite gets WAL, foreign keys, a busy timeout
    and BEGIN IMMEDIATE for writing sessions (see `write_session`). A busy timeout of 0
    makes a writer that meets another process's write lock fail at once (`writer_busy`)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            prepare_sqlite_file(path)
        engine = sa.create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    ping_when_idle(engine)
    return engine


def writer_busy(exc: BaseException) -> bool:
    """Is this SQLite's "database is locked": another connection holds the write lock?"""
    orig = getattr(exc, "orig", None)
    # The primary code, so the extended SQLITE_BUSY_* codes count too.
    return isinstance(orig, sqlite3.Error) and orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def writer_lock(engine: Engine) -> threading.RLock | None:
    """This process's lock for writers of a SQLite file (None on PostgreSQL): every engine
    of one file shares it."""
    return _write_plan(engine).lock


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Before a pooled connection is used, ping it if it lay unused for `idle_seconds`; a
    dead one (the database restarted, a firewall forgot it) is replaced, not handed out.

    SQLAlchemy's pool_pre_ping pings on every checkout. A connection that died while busy
    fails its request instead (500, which the kiosk's outbox sends again), and SQLAlchemy
    then retires every connection of the pool opened before the failure."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["kiosk_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("kiosk_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError("pooled connection is gone") from exc


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    _WRITERS.setdefault(engine.url.render_as_string(), threading.RLock())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN can be IMMEDIATE when writing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A writer takes the write lock up front: read-then-write decisions (reuse a
        # credential, replay a client_ref) cannot interleave, across threads and workers.
        if connection.get_execution_options().get("kiosk_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


class _WritePlan:
    """How one engine's writers begin: the engine whose BEGIN is IMMEDIATE on SQLite, and
    this process's writer lock for a SQLite file (None on PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine.execution_options(kiosk_write=True)
        url = engine.url.render_as_string()
        self.lock = _WRITERS.get(url) if is_sqlite(url) else None


# Built once per engine: parsing the URL and making the options engine cost more than a
# check-in's statements did on the driver.
_WRITE_PLANS: weakref.WeakKeyDictionary[Engine, _WritePlan] = weakref.WeakKeyDictionary()


def _write_plan(engine: Engine) -> _WritePlan:
    plan = _WRITE_PLANS.get(engine)
    if plan is None:
        plan = _WRITE_PLANS[engine] = _WritePlan(engine)
    return plan


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction serialises with every other writer (SQLite: BEGIN
    IMMEDIATE; PostgreSQL: callers lock rows with FOR UPDATE). Commits on success.

    SQLite writers of one process also queue on a lock of their own first: SQLite's busy
    handler waits by sleeping (1, 2, 5 ... 100 ms), so threads that meet a held write lock
    in the database lose whole milliseconds after it is free; a Python lock hands it on at
    once. Other processes on the file still meet the busy handler."""
    plan = _write_plan(engine)
    with plan.lock if plan.lock is not None else nullcontext():
        with Session(plan.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session


@contextmanager
def write_connection(engine: Engine) -> Iterator[sa.Connection]:
    """Like write_session, as a bare Core connection: for a few statements on a hot path,
    without the ORM session's own cost."""
    plan = _write_plan(engine)
    with plan.lock if plan.lock is not None else nullcontext():
        with plan.engine.begin() as connection:
            yield connection


# PostgreSQL: one credential issuer at a time (unique random usernames, one credential per
# member); the check-in desk runs it on its own cursor, guests through lock_credential_issuing.
ISSUING_LOCK = sa.select(sa.func.pg_advisory_xact_lock(ISSUING_LOCK_KEY))


def lock_credential_issuing(session: Session) -> None:
    """PostgreSQL: ISSUING_LOCK. SQLite writers are already serialised by BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(ISSUING_LOCK)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent; safe at every start)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic announces every plugin at INFO: keep operators' logs to what happened.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.execution_options(kiosk_write=True).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_database(engine: Engine) -> str:
    """'ok' or a short reason the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return f"error: {type(exc.orig if hasattr(exc, 'orig') else exc).__name__}"
    return "ok"
