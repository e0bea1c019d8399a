"""The record of use: FreeRADIUS's radacct read for the console, the reports and privacy (who
is online, each day's sessions, hours and data, a patron's sessions; purge and erase)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.backend.db import CredentialRow, GuestVisitRow
from kiosk.backend.provisioning.base import PatronKind, Provisioner, ProvisioningUnavailable
from kiosk.backend.provisioning.disconnect import TRIES, WAIT_SECONDS, Disconnector
from kiosk.backend.provisioning.freeradius import (
    FreeRadiusSqlProvisioner,
    kiosk_disconnect,
    metadata,
    radacct,
)

KINDS: tuple[PatronKind, ...] = ("member", "guest", "group")
CHUNK = 500  # usernames per IN (...) list
LONG_PERIOD = dt.timedelta(days=62)  # over this, SQLite sums radacct reading it in order
SETTLE_SECONDS = TRIES * WAIT_SECONDS + 2  # one session's Disconnect-Request, every try


@dataclass(frozen=True)
class UseSession:
    """One radacct row: who, which device, when, how long and how much (download is what the
    NAS sent to the patron, acctoutputoctets)."""

    username: str
    mac: str
    ip: str
    nas: str
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None
    seconds: int
    downloaded: int
    uploaded: int

    @property
    def online(self) -> bool:
        return self.stopped_at is None


@dataclass(frozen=True)
class Patron:
    """Whose credential a username is: a member (their number) or a guest or group (a name)."""

    kind: PatronKind
    member_id: str
    name: str


@dataclass
class KindOfUse:
    """Sessions and online seconds of one kind of patron."""

    sessions: int = 0
    seconds: int = 0
    users: set[str] = field(default_factory=set)


@dataclass
class DayOfUse:
    """One day's use (sessions counted on the day they began, in the backend's time zone)."""

    day: dt.date | None
    sessions: int = 0
    seconds: int = 0
    downloaded: int = 0
    uploaded: int = 0
    users: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    by_kind: dict[str, KindOfUse] = field(default_factory=lambda: {k: KindOfUse() for k in KINDS})

    def add(self, session: UseSession, kind: str) -> None:
        self.sessions += 1
        self.seconds += session.seconds
        self.downloaded += session.downloaded
        self.uploaded += session.uploaded
        self.users.add(session.username)
        if session.mac:
            self.devices.add(session.mac.upper())
        part = self.by_kind.setdefault(kind, KindOfUse())
        part.sessions += 1
        part.seconds += session.seconds
        part.users.add(session.username)

    @property
    def hours(self) -> float:
        return self.seconds / 3600


@dataclass(frozen=True)
class UseTotals:
    """A whole period counted in the database (a year of radacct stays quick): sessions,
    online seconds, data, distinct users and devices."""

    sessions: int
    seconds: int
    downloaded: int
    uploaded: int
    users: int
    devices: int

    @property
    def hours(self) -> float:
        return self.seconds / 3600


@dataclass
class PeriodOfUse:
    """Each day of a period, and the whole period (its users and devices counted once)."""

    days: list[DayOfUse]
    total: DayOfUse


def _epoch(column: Any, dialect: str) -> Any:
    """A radacct time as Unix seconds: FreeRADIUS's SQLite queries store epoch integers,
    its MySQL queries local DATETIMEs, its PostgreSQL queries timestamptz."""
    if dialect == "sqlite":
        raw = sa.type_coerce(column, sa.BigInteger)
        return sa.cast(
            sa.case(
                (sa.func.typeof(raw).in_(["integer", "real"]), raw),
                else_=sa.func.strftime("%s", raw),
            ),
            sa.BigInteger,
        )
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", column), sa.BigInteger)
    return sa.type_coerce(sa.func.unix_timestamp(column), sa.BigInteger)


def _before(column: Any, dialect: str, moment: dt.datetime, *, scan: bool = False) -> Any:
    """`column < moment` in a form the column's index serves (radacct's own time type).
    `scan`: most of the table is wanted, and SQLite reads it faster in order than by index."""
    if dialect == "sqlite":  # FreeRADIUS's epoch integers (an integer sorts before any text)
        value = sa.type_coerce(column, sa.BigInteger)
        return (value + 0 if scan else value) < int(moment.timestamp())
    if dialect == "postgresql":
        return column < moment
    return column < sa.func.from_unixtime(int(moment.timestamp()))


def day_bounds(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where `first` begins and the day after `last` begins, in `zone`."""
    begin = dt.datetime.combine(first, dt.time(), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    return begin.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands DateTime columns back without their zone; the kiosk writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _moment(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(int(seconds), dt.UTC)


class RecordOfUse:
    """Reads (and, for privacy, deletes) radacct rows in the provisioning database."""

    def __init__(self, engine: Engine, disconnector: Disconnector | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.disconnector = disconnector

    def _select(self) -> sa.Select[Any]:
        start = _epoch(radacct.c.acctstarttime, self.dialect)
        stop = _epoch(radacct.c.acctstoptime, self.dialect)
        return sa.select(
            radacct.c.username,
            radacct.c.callingstationid,
            radacct.c.framedipaddress,
            radacct.c.nasipaddress,
            start.label("start"),
            stop.label("stop"),
            radacct.c.acctsessiontime,
            radacct.c.acctoutputoctets,
            radacct.c.acctinputoctets,
        ).order_by(start, radacct.c.radacctid)

    def _read(self, query: sa.Select[Any], now: dt.datetime) -> list[UseSession]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            reason = str(orig).splitlines()[0] if orig is not None else type(exc).__name__
            raise ProvisioningUnavailable(f"radacct: {reason}") from None
        found = []
        for user, mac, ip, nas, start, stop, seconds, down, up in rows:
            # An open session counts up to now (or its last interim update, when later).
            if stop is None and start is not None:
                seconds = max(int(seconds or 0), int(now.timestamp()) - int(start))
            found.append(
                UseSession(
                    str(user),
                    str(mac or ""),
                    str(ip or ""),
                    str(nas or ""),
                    _moment(start),
                    _moment(stop),
                    max(int(seconds or 0), 0),
                    int(down or 0),
                    int(up or 0),
                )
            )
        return found

    def online(self, now: dt.datetime) -> list[UseSession]:
        """The sessions without a stop: who is online now."""
        return self._read(self._select().where(radacct.c.acctstoptime.is_(None)), now)

    def between(self, first: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[UseSession]:
        """The sessions that began in [first, end)."""
        column = radacct.c.acctstarttime
        query = self._select().where(
            sa.not_(_before(column, self.dialect, first)), _before(column, self.dialect, end)
        )
        return self._read(query, now)

    def totals(self, first: dt.datetime, end: dt.datetime, now: dt.datetime) -> UseTotals:
        """The sessions that began in [first, end), summed by the database (open ones up to
        now, read one by one: there are few)."""
        column, scan = radacct.c.acctstarttime, end - first > LONG_PERIOD
        began = sa.and_(
            sa.not_(_before(column, self.dialect, first, scan=scan)),
            _before(column, self.dialect, end, scan=scan),
        )
        closed = radacct.c.acctstoptime.is_not(None)
        mac = sa.func.upper(radacct.c.callingstationid)
        query = sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((closed, radacct.c.acctsessiontime), else_=0)),
            sa.func.sum(sa.case((closed, radacct.c.acctoutputoctets), else_=0)),
            sa.func.sum(sa.case((closed, radacct.c.acctinputoctets), else_=0)),
            sa.func.count(sa.distinct(radacct.c.username)),
            sa.func.count(sa.distinct(sa.case((radacct.c.callingstationid != "", mac)))),
        ).where(began)
        try:
            with self.engine.connect() as conn:
                count, seconds, down, up, users, devices = conn.execute(query).one()
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            reason = str(orig).splitlines()[0] if orig is not None else type(exc).__name__
            raise ProvisioningUnavailable(f"radacct: {reason}") from None
        still_open = self._read(self._select().where(began, sa.not_(closed)), now)
        return UseTotals(
            int(count or 0),
            int(seconds or 0) + sum(s.seconds for s in still_open),
            int(down or 0) + sum(s.downloaded for s in still_open),
            int(up or 0) + sum(s.uploaded for s in still_open),
            int(users or 0),
            int(devices or 0),
        )

    def of_users(self, usernames: Iterable[str], now: dt.datetime) -> list[UseSession]:
        """Every session of these usernames (a member's page, `kiosk privacy export`)."""
        names, found = sorted(set(usernames)), []
        for chunk in range(0, len(names), CHUNK):
            part = names[chunk : chunk + CHUNK]
            found += self._read(self._select().where(radacct.c.username.in_(part)), now)
        return sorted(found, key=lambda s: s.started_at or dt.datetime.min.replace(tzinfo=dt.UTC))

    def disconnects(
        self, usernames: Iterable[str] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The latest Disconnect-Request outcomes, newest first (of these usernames)."""
        query = sa.select(kiosk_disconnect).order_by(kiosk_disconnect.c.id.desc()).limit(limit)
        if usernames is not None:
            query = query.where(kiosk_disconnect.c.username.in_(sorted(set(usernames))[:CHUNK]))
        try:
            metadata.create_all(self.engine, tables=[kiosk_disconnect], checkfirst=True)
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError:
            return []
        return [{**row, "sent_at": _aware(row["sent_at"])} for row in rows]

    def erase(self, usernames: Iterable[str]) -> int:
        """Delete every session (and disconnect outcome) of these usernames, after the
        Disconnect-Requests under way (a revoke just before) have their answers."""
        if self.disconnector is not None:
            self.disconnector.finish(timeout=SETTLE_SECONDS)
        names, deleted = sorted(set(usernames)), 0
        with self.engine.begin() as conn:
            metadata.create_all(conn, tables=[kiosk_disconnect], checkfirst=True)
            for chunk in range(0, len(names), CHUNK):
                part = names[chunk : chunk + CHUNK]
                deleted += conn.execute(
                    sa.delete(radacct).where(radacct.c.username.in_(part))
                ).rowcount
                conn.execute(
                    sa.delete(kiosk_disconnect).where(kiosk_disconnect.c.username.in_(part))
                )
        return int(deleted)

    def purge(self, cutoff: dt.datetime, *, dry_run: bool = False) -> int:
        """Delete sessions that began before `cutoff` and ended (or were left open) before it,
        and disconnect outcomes older than it: [privacy] retention_days. A dry run counts."""
        old = sa.and_(
            _before(radacct.c.acctstarttime, self.dialect, cutoff),
            sa.or_(
                radacct.c.acctstoptime.is_(None),
                _before(radacct.c.acctstoptime, self.dialect, cutoff),
            ),
        )
        with self.engine.begin() as conn:
            if dry_run:
                return int(conn.scalar(sa.select(sa.func.count()).where(old)) or 0)
            metadata.create_all(conn, tables=[kiosk_disconnect], checkfirst=True)
            deleted = conn.execute(sa.delete(radacct).where(old)).rowcount
            conn.execute(sa.delete(kiosk_disconnect).where(kiosk_disconnect.c.sent_at < cutoff))
        return int(deleted)


def record_of_use(provisioner: Provisioner) -> RecordOfUse | None:
    """The record of use behind this provisioner; None where there is no radacct (local,
    MikroTik REST)."""
    if isinstance(provisioner, FreeRadiusSqlProvisioner):
        return RecordOfUse(provisioner.engine, provisioner.disconnector)
    return None


def patrons_of(session: Session, usernames: Iterable[str]) -> dict[str, Patron]:
    """Whose credential each username is, from the backend's credentials and guest visits
    (a username no longer held there is missing: erased or purged)."""
    names = sorted(set(usernames))
    found: dict[str, Patron] = {}
    for chunk in range(0, len(names), CHUNK):
        part = names[chunk : chunk + CHUNK]
        for username, member_id in session.execute(
            sa.select(CredentialRow.username, CredentialRow.member_id).where(
                CredentialRow.username.in_(part)
            )
        ):
            found[username] = Patron("member", member_id, member_id)
        for guest_name, name, institution, size in session.execute(
            sa.select(
                GuestVisitRow.username,
                GuestVisitRow.name,
                GuestVisitRow.institution,
                GuestVisitRow.group_size,
            ).where(GuestVisitRow.username.in_(part))
        ):
            kind: PatronKind = "group" if size > 1 else "guest"
            found[str(guest_name)] = Patron(
                kind, "", institution if size > 1 and institution else name
            )
    return found


def days_of_use(
    sessions: list[UseSession],
    patrons: dict[str, Patron],
    days: list[dt.date],
    zone: ZoneInfo,
) -> PeriodOfUse:
    """Per day of `days` and for the whole period; a username of no known patron counts
    under its sessions but in no kind."""
    by_day = {day: DayOfUse(day) for day in days}
    total = DayOfUse(None)
    for session in sessions:
        if session.started_at is None:
            continue
        day = session.started_at.astimezone(zone).date()
        patron = patrons.get(session.username)
        kind = patron.kind if patron else "unknown"
        if day in by_day:
            by_day[day].add(session, kind)
            total.add(session, kind)
    return PeriodOfUse(list(by_day.values()), total)


def period_total(
    record: RecordOfUse, first: dt.date, last: dt.date, zone: ZoneInfo, now: dt.datetime
) -> UseTotals:
    """The whole period's sessions, online time, data, users and devices (the reports)."""
    return record.totals(*day_bounds(first, last, zone), now)
