"""A pending credential's lease: renewed while its owner asks the network side, or taken over."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.backend.db import CredentialRow, write_session

log = logging.getLogger("kiosk.backend.checkins")

# How long a check-in waits for another check-in of the same member that is at the
# network side (a live owner renewing its lease), and how often it looks again.
PENDING_WAIT_SECONDS = 20.0
PENDING_POLL_SECONDS = 0.02
# While a credential is pending, its issued_at is the owner's last renewal (set back to the
# reservation time on confirming). A reservation not renewed for LEASE is abandoned: its
# process was killed or lost the database. Backend instances' clocks must agree to well
# within LEASE (NTP); RENEW leaves room for a renewal that waits on a busy SQLite writer.
LEASE = dt.timedelta(seconds=5)
RENEW_SECONDS = 1.0


def lease_lapsed(issued_at: dt.datetime, now: dt.datetime) -> dt.timedelta | None:
    """How long a pending row (last renewed at `issued_at`) has gone without renewal, when
    that is LEASE or more."""
    silent = now - issued_at
    return silent if silent >= LEASE else None


@contextmanager
def lease_kept(
    engine: Engine, credential_id: int, clock: Callable[[], dt.datetime]
) -> Iterator[None]:
    """Renew the reservation every RENEW_SECONDS while the body (the network call) runs."""
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew,
        args=(engine, credential_id, clock, stop),
        name=f"lease-{credential_id}",
        daemon=True,
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()


def _renew(
    engine: Engine, credential_id: int, clock: Callable[[], dt.datetime], stop: threading.Event
) -> None:
    while not stop.wait(RENEW_SECONDS):
        try:
            with write_session(engine) as session:
                renewed = session.execute(
                    sa.update(CredentialRow)
                    .where(CredentialRow.id == credential_id, CredentialRow.pending.is_(True))
                    .values(issued_at=clock())
                )
        except sa.exc.SQLAlchemyError as exc:  # the next renewal may get through
            log.warning("pending credential %d: lease not renewed: %s", credential_id, exc)
            continue
        if not renewed.rowcount:  # type: ignore[attr-defined]
            return  # confirmed, released, or taken over by another instance
