"""The check-in desk's write transaction: its compiled statements on the driver's own cursor,
and an ORM session on the same connection only for the paths that need one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kiosk.backend.db import write_connection
from kiosk.backend.desk.statements import DeskStatements, DriverStatement


class DeskTransaction:
    """One write transaction of the check-in desk (see `desk_transaction`).

    A driver error is raised as SQLAlchemy raises it (IntegrityError, OperationalError ...),
    and a connection the driver reports gone is invalidated, so the pool never hands it out
    again: to the desk and the error handlers nothing changes but the cost."""

    def __init__(self, connection: sa.Connection, statements: DeskStatements) -> None:
        self.connection = connection
        self.statements = statements
        self._dialect = connection.dialect
        self._cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._session: Session | None = None

    # ------------------------------------------------------------ statements

    def rows(self, statement: DriverStatement, **values: Any) -> list[tuple[Any, ...]]:
        """Every row the statement returns, converted."""
        self._execute(statement, values)
        return [statement.row(raw) for raw in self._cursor.fetchall()]

    def first(self, statement: DriverStatement, **values: Any) -> tuple[Any, ...] | None:
        """The statement's first row, converted, or None."""
        self._execute(statement, values)
        raw = self._cursor.fetchone()
        if raw is not None:
            self._cursor.fetchall()  # the rest (none: these statements return one row)
        return None if raw is None else statement.row(raw)

    def run(self, statement: DriverStatement, **values: Any) -> None:
        """A statement for its effect (DELETE, a lock)."""
        self._execute(statement, values)
        if self._cursor.description is not None:
            self._cursor.fetchall()

    def inserted(self, statement: DriverStatement, **values: Any) -> int:
        """The id an INSERT ... RETURNING id made."""
        row = self.first(statement, **values)
        assert row is not None  # an insert of one row returns it
        return int(row[0])

    def run_many(self, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for each of `rows` (the visit's answers)."""
        parameters = [statement.parameters(row) for row in rows]
        try:
            self._cursor.executemany(statement.sql, parameters)
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(exc, statement, parameters) from exc

    # ------------------------------------------------------------ the ORM, when needed

    @property
    def session(self) -> Session:
        """An ORM session in this same transaction (a replay's rebuilt answer, the library
        write-back, a reservation's confirmation): made on first use, flushed before the
        transaction commits."""
        if self._session is None:
            self._session = Session(
                bind=self.connection,
                expire_on_commit=False,
                join_transaction_mode="rollback_only",
            )
        return self._session

    def _flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._cursor.close()

    # ------------------------------------------------------------ the driver

    def _execute(self, statement: DriverStatement, values: Mapping[str, Any]) -> None:
        if self._session is not None:
            self._session.flush()  # the ORM's pending rows first, as a Session would
        parameters = statement.parameters(values)
        try:
            self._cursor.execute(statement.sql, parameters)
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(exc, statement, parameters) from exc

    def _wrapped(self, exc: Any, statement: DriverStatement, parameters: Any) -> Exception:
        """The driver's error as SQLAlchemy would raise it; on a lost connection, what
        SQLAlchemy does too: this connection and every pooled one opened before it are
        retired (the database restarted: they are all dead), not handed out again."""
        proxied = self.connection.connection
        gone = self._dialect.is_disconnect(exc, proxied.dbapi_connection, self._cursor)
        if gone:
            # Connection._handle_dbapi_exception's own call: no public API retires a
            # pool's generation, and SQLAlchemy is pinned in constraints.txt.
            self.connection.engine.pool._invalidate(proxied, exc)
            self.connection.invalidate(exc)
        return sa.exc.DBAPIError.instance(
            statement.sql,
            parameters,
            exc,
            self._dialect.loaded_dbapi.Error,
            connection_invalidated=gone,
            dialect=self._dialect,
        )


@contextmanager
def desk_transaction(engine: Engine, statements: DeskStatements) -> Iterator[DeskTransaction]:
    """A write transaction (write_connection: BEGIN IMMEDIATE on SQLite, this process's
    writer lock) for the desk's statements; commits on success, rolls back on an error."""
    with write_connection(engine) as connection:
        transaction = DeskTransaction(connection, statements)
        try:
            yield transaction
            transaction._flush()
        finally:
            transaction._close()
