"""The `freeradius-sql` provisioner: credentials as rows of FreeRADIUS's own SQL schema
(`radcheck`, `radusergroup`), so the RADIUS server behind the Wi-Fi lets the patron in."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from kiosk.backend.provisioning.base import (
    CredentialRejected,
    NetworkCredential,
    ProvisioningUnavailable,
    RadiusDatabaseDown,
)
from kiosk.backend.provisioning.disconnect import TRIES, WAIT_SECONDS, Disconnector, OpenSession
from kiosk.backend.provisioning.radius_dates import freeradius_date, parse_freeradius_date
from kiosk.backend.provisioning.radius_policy import (
    Attribute,
    check_attributes,
    reply_attributes,
)
from kiosk.config import ConfigError, InternetSettings, ProvisioningSettings, Settings
from kiosk.config.internet import RadiusNas

log = logging.getLogger(__name__)

PASSWORD_ATTRIBUTE = "Cleartext-Password"
EXPIRATION_ATTRIBUTE = "Expiration"
# rlm_expiration parses month names itself (fr_get_time), in English whatever the locale.

# Table and column names, types and defaults as in FreeRADIUS 3.2's
# mods-config/sql/main/{sqlite,mysql,postgresql}/schema.sql. Created only where missing
# (a new SQLite file): a library's existing FreeRADIUS database is used as it is.
metadata = MetaData()


def _text(name: str, length: int, default: str = "") -> Column[str]:
    return Column(name, String(length), nullable=False, server_default=default)


def _address(name: str, length: int, nullable: bool = True) -> Column[str]:
    """An IP address: inet on PostgreSQL as in its schema (its queries write `...::inet` and
    join on it), text elsewhere."""
    return Column(name, String(length).with_variant(INET(), "postgresql"), nullable=nullable)


def _optional(name: str, length: int) -> Column[str]:
    """A text column the PostgreSQL queries may leave NULL (MySQL's and SQLite's write '')."""
    return Column(name, String(length), server_default="")


def _attribute_table(name: str, key: str, default_op: str, index: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _text(key, 64),
        _text("attribute", 64),
        _text("op", 2, default_op),
        _text("value", 253),
        Index(index, key),
        sqlite_autoincrement=True,
    )


radcheck = _attribute_table("radcheck", "username", "==", "check_username")
radreply = _attribute_table("radreply", "username", "=", "reply_username")
radgroupcheck = _attribute_table("radgroupcheck", "groupname", "==", "check_groupname")
radgroupreply = _attribute_table("radgroupreply", "groupname", "=", "reply_groupname")
radusergroup = Table(
    "radusergroup",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("username", 64),
    _text("groupname", 64),
    Column("priority", Integer, nullable=False, server_default="1"),
    Index("usergroup_username", "username"),
    sqlite_autoincrement=True,
)
radpostauth = Table(
    "radpostauth",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("username", 64),
    _text("pass", 64),
    _text("reply", 32),
    Column("authdate", DateTime(timezone=True), nullable=False),
    Column("class", String(64)),
    Index("radpostauth_username", "username"),
    Index("radpostauth_class", "class"),
    sqlite_autoincrement=True,
)
radacct = Table(
    "radacct",
    metadata,
    Column("radacctid", Integer, primary_key=True, autoincrement=True),
    _text("acctsessionid", 64),
    _text("acctuniqueid", 32),
    _optional("username", 64),
    Column("realm", String(64), server_default=""),
    _address("nasipaddress", 15, nullable=False),
    Column("nasportid", String(32)),
    Column("nasporttype", String(32)),
    Column("acctstarttime", DateTime(timezone=True)),
    Column("acctupdatetime", DateTime(timezone=True)),
    Column("acctstoptime", DateTime(timezone=True)),
    Column("acctinterval", Integer),
    Column("acctsessiontime", Integer),
    Column("acctauthentic", String(32)),
    Column("connectinfo_start", String(128)),
    Column("connectinfo_stop", String(128)),
    Column("acctinputoctets", BigInteger),
    Column("acctoutputoctets", BigInteger),
    _optional("calledstationid", 50),
    _optional("callingstationid", 50),
    _optional("acctterminatecause", 32),
    Column("servicetype", String(32)),
    Column("framedprotocol", String(32)),
    _address("framedipaddress", 15),
    _address("framedipv6address", 45),
    _address("framedipv6prefix", 45),
    _optional("framedinterfaceid", 44),
    _address("delegatedipv6prefix", 45),
    Column("class", String(64)),
    Index("acctuniqueid", "acctuniqueid", unique=True),
    Index("radacct_username", "username"),
    Index("acctsessionid", "acctsessionid"),
    Index("acctstarttime", "acctstarttime"),
    Index("acctstoptime", "acctstoptime"),
    Index("nasipaddress", "nasipaddress"),
    # The daily counter's query: one user's sessions of the day.
    Index("radacct_user_start", "username", "acctstarttime"),
    sqlite_autoincrement=True,
)
# Simultaneous-Use's stock query joins it (a NAS's reboot closes its sessions).
nasreload = Table(
    "nasreload",
    metadata,
    Column("nasipaddress", String(15).with_variant(INET(), "postgresql"), primary_key=True),
    Column("reloadtime", DateTime(timezone=True), nullable=False),
)
nas = Table(
    "nas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("nasname", String(128), nullable=False),
    Column("shortname", String(32)),
    Column("type", String(30), server_default="other"),
    Column("ports", Integer),
    Column("secret", String(60), nullable=False, server_default="secret"),
    Column("server", String(64)),
    Column("community", String(50)),
    Column("description", String(200), server_default="RADIUS Client"),
    Index("nasname", "nasname"),
    sqlite_autoincrement=True,
)
# Not FreeRADIUS's: the kiosk's own list of the users it made, so that a library's staff
# accounts in radcheck are never changed or removed by issuing or reconciling.
kiosk_managed_user = Table(
    "kiosk_managed_user",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)
# Not FreeRADIUS's either: each Disconnect-Request's outcome (ack, nak, timeout), for the console.
kiosk_disconnect = Table(
    "kiosk_disconnect",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("username", 64),
    _text("session_id", 64),
    _text("nas", 45),
    _text("outcome", 80),
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

# What a bare "mysql://" or "postgresql://" means here: the drivers the backend extra installs.
_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
}


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands DateTime columns back without their zone; the kiosk writes UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _database_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(f"provisioning.database_url: not a database URL ({exc})") from None
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    return url


class FreeRadiusSqlProvisioner:
    """Writes `Cleartext-Password :=` and `Expiration :=` rows (and a radusergroup row when a
    group is set) in one transaction per credential; revoking deletes them."""

    name = "freeradius-sql"
    remote = True  # issue() writes to the RADIUS database over the network

    def __init__(
        self,
        database_url: str,
        group: str = "",
        radius_timezone: str = "",
        timeout: float = 3.0,
        internet: InternetSettings | None = None,
        nas: list[RadiusNas] | None = None,
    ) -> None:
        url = _database_url(database_url)
        self.group = group
        self.internet = internet or InternetSettings()
        self.disconnector = Disconnector(nas or [], self._keep_outcome)
        self.zone = ZoneInfo(radius_timezone) if radius_timezone else None
        self.where = url.render_as_string(hide_password=True)
        connect_args: dict[str, Any] = {}
        backend = url.get_backend_name()
        if backend == "sqlite":
            # How long to wait while FreeRADIUS holds the file's lock before calling it down.
            connect_args["timeout"] = timeout
        elif backend in ("mysql", "mariadb"):
            connect_args.update(
                connect_timeout=max(1, int(timeout)), read_timeout=timeout, write_timeout=timeout
            )
        elif backend == "postgresql":
            connect_args["connect_timeout"] = max(1, int(timeout))
        try:
            self.engine: Engine = create_engine(
                url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args
            )
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"provisioning.database_url = {self.where!r}: {exc}") from None
        self._schema_ready = False

    @classmethod
    def from_settings(
        cls, settings: ProvisioningSettings, internet: InternetSettings | None = None
    ) -> FreeRadiusSqlProvisioner:
        if not settings.database_url:
            raise ConfigError(
                "provisioning.database_url: required for kind = 'freeradius-sql' "
                "(e.g. sqlite:////etc/freeradius/3.0/radius.db)"
            )
        return cls(
            settings.database_url,
            settings.group,
            settings.radius_timezone,
            internet=internet,
            nas=settings.radius.nas,
        )

    # ------------------------------------------------------------ the interface

    def issue(self, credential: NetworkCredential) -> None:
        self._write(credential)
        log.info("freeradius-sql issued %s until %s", credential.username, credential.expires_at)

    def renew(self, credential: NetworkCredential) -> None:
        self._write(credential)
        log.info("freeradius-sql renewed %s until %s", credential.username, credential.expires_at)

    def revoke(self, username: str) -> None:
        with self._transaction() as conn:
            if not self._is_managed(conn, username):
                return  # never ours (or already gone): a staff account stays untouched
            sessions = self._open_sessions(conn, username)
            self._delete_rows(conn, username)
            conn.execute(
                delete(kiosk_managed_user).where(kiosk_managed_user.c.username == username)
            )
        log.info("freeradius-sql revoked %s (%d open session(s))", username, len(sessions))
        self.disconnector.end(sessions)  # in the background: the revoke waits for no NAS

    def check(self) -> None:
        with self._transaction() as conn:
            conn.execute(select(radcheck.c.id).limit(1))

    def usernames(self) -> set[str]:
        with self._transaction() as conn:
            return set(conn.scalars(select(kiosk_managed_user.c.username)))

    def current(self) -> dict[str, NetworkCredential]:
        with self._transaction() as conn:
            # .all(): a Result has keys() (its column names), which dict() would take for a map.
            managed: dict[str, dt.datetime | None] = dict(
                conn.execute(select(kiosk_managed_user.c.username, kiosk_managed_user.c.issued_at))
                .tuples()
                .all()
            )
            rows = conn.execute(
                select(radcheck.c.username, radcheck.c.attribute, radcheck.c.value)
                .join(kiosk_managed_user, kiosk_managed_user.c.username == radcheck.c.username)
                .where(radcheck.c.attribute.in_([PASSWORD_ATTRIBUTE, EXPIRATION_ATTRIBUTE]))
            ).all()
        found: dict[str, dict[str, str]] = {name: {} for name in managed}
        for username, attribute, value in rows:
            found[username][attribute] = value
        never = dt.datetime.fromtimestamp(0, dt.UTC)
        return {
            name: NetworkCredential(
                username=name,
                password=values.get(PASSWORD_ATTRIBUTE, ""),
                expires_at=parse_freeradius_date(values.get(EXPIRATION_ATTRIBUTE, ""), self.zone)
                or never,
                issued_at=_utc(managed[name]),
            )
            for name, values in found.items()
        }

    def follow(self, settings: Settings) -> None:
        self.internet = settings.internet

    def close(self) -> None:
        self.disconnector.finish(timeout=TRIES * WAIT_SECONDS + 2)  # a command about to exit
        self.engine.dispose()

    # ---------------------------------------------------------------- inside

    def _keep_outcome(self, session: OpenSession, outcome: str, tries: int) -> None:
        """Keep a Disconnect-Request's outcome for the console (a database down: logged)."""
        row = {
            "username": session.username,
            "session_id": session.session_id[:64],
            "nas": session.nas_address[:45],
            "outcome": outcome[:80],
            "tries": tries,
            "sent_at": dt.datetime.now(dt.UTC),
        }
        try:
            with self._transaction() as conn:
                conn.execute(insert(kiosk_disconnect).values(**row))
        except ProvisioningUnavailable as exc:
            log.warning("disconnect %s: outcome %s not kept: %s", session.username, outcome, exc)

    def _write(self, credential: NetworkCredential) -> None:
        username = credential.username
        policy = self.internet.for_kind(credential.kind)
        with self._transaction() as conn:
            if not self._is_managed(conn, username) and self._exists(conn, username):
                raise CredentialRejected(
                    f"FreeRADIUS already has a user {username!r} the kiosk did not make"
                )
            self._delete_rows(conn, username)
            conn.execute(
                insert(radcheck),
                [
                    {
                        "username": username,
                        "attribute": PASSWORD_ATTRIBUTE,
                        "op": ":=",
                        "value": credential.password,
                    },
                    {
                        "username": username,
                        "attribute": EXPIRATION_ATTRIBUTE,
                        "op": ":=",
                        "value": freeradius_date(credential.expires_at, self.zone),
                    },
                    *_rows(username, check_attributes(policy)),
                ],
            )
            if replies := _rows(username, reply_attributes(policy)):
                conn.execute(insert(radreply), replies)
            if self.group:
                conn.execute(
                    insert(radusergroup).values(username=username, groupname=self.group, priority=1)
                )
            conn.execute(
                delete(kiosk_managed_user).where(kiosk_managed_user.c.username == username)
            )
            conn.execute(
                insert(kiosk_managed_user).values(
                    username=username, issued_at=dt.datetime.now(dt.UTC)
                )
            )

    @staticmethod
    def _delete_rows(conn: Connection, username: str) -> None:
        conn.execute(delete(radcheck).where(radcheck.c.username == username))
        conn.execute(delete(radreply).where(radreply.c.username == username))
        conn.execute(delete(radusergroup).where(radusergroup.c.username == username))

    @staticmethod
    def _open_sessions(conn: Connection, username: str) -> list[OpenSession]:
        rows = conn.execute(
            select(radacct.c.acctsessionid, radacct.c.nasipaddress, radacct.c.framedipaddress)
            .where(radacct.c.username == username, radacct.c.acctstoptime.is_(None))
            .order_by(radacct.c.radacctid)
        ).all()
        return [OpenSession(username, str(s), str(n), str(f or "")) for s, n, f in rows]

    @staticmethod
    def _is_managed(conn: Connection, username: str) -> bool:
        found = conn.scalar(
            select(kiosk_managed_user.c.username).where(kiosk_managed_user.c.username == username)
        )
        return found is not None

    @staticmethod
    def _exists(conn: Connection, username: str) -> bool:
        found = conn.scalar(select(radcheck.c.id).where(radcheck.c.username == username).limit(1))
        return found is not None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction, committed on success and rolled back on any error, with database
        errors turned into ProvisioningUnavailable (parameters, so passwords, are hidden)."""
        try:
            if not self._schema_ready:
                metadata.create_all(self.engine, checkfirst=True)
                self._schema_ready = True
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            reason = str(orig) if orig is not None else type(exc).__name__
            message = f"FreeRADIUS database {self.where}: {reason.splitlines()[0]}"
            # A server that refuses or dropped the connection is down; a locked SQLite file
            # or a refused statement is not (FreeRADIUS may be using it right now).
            unreachable = isinstance(exc, DBAPIError) and (
                exc.connection_invalidated or exc.statement is None
            )
            if unreachable and self.engine.dialect.name != "sqlite":
                raise RadiusDatabaseDown(message) from None
            raise ProvisioningUnavailable(message) from None


def _rows(username: str, attributes: list[Attribute]) -> list[dict[str, str]]:
    return [
        {"username": username, "attribute": name, "op": op, "value": value}
        for name, op, value in attributes
    ]
