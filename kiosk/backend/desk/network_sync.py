"""Reconciliation's one home: hands the database's active credentials to provisioning's
reconcile(), once (CLI) or every [provisioning] reconcile_seconds (the app's loop)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import anyio.to_thread
from sqlalchemy.engine import Engine

from kiosk.backend.db import read_session
from kiosk.backend.desk.credentials import active_credentials
from kiosk.backend.provisioning.base import Provisioner, ProvisioningUnavailable
from kiosk.backend.provisioning.reconcile import ReconcileReport, reconcile

log = logging.getLogger("kiosk.backend")


def reconcile_once(engine: Engine, provisioner: Provisioner, now: dt.datetime) -> ReconcileReport:
    """Run `reconcile(provisioner, active, now)` once and return its report. The `local`
    provisioner has nothing to compare with: nothing is read (every instance loaded every
    active credential each minute for nothing, a GIL-holding pause seen in the benchmarks)."""
    if provisioner.name == "local":
        return ReconcileReport()
    with read_session(engine) as session:
        active = active_credentials(session, now)
    return reconcile(provisioner, active, now)


async def reconcile_forever(
    engine: Engine,
    provisioner: Provisioner,
    clock: Callable[[], dt.datetime],
    interval: float,
) -> None:
    """Every `interval` seconds: make the network side match the database (until cancelled)."""
    while True:
        await asyncio.sleep(interval)
        try:
            report = await anyio.to_thread.run_sync(reconcile_once, engine, provisioner, clock())
        except ProvisioningUnavailable as exc:
            log.warning("reconcile: provisioning unavailable: %s", exc)
            continue
        except Exception as exc:  # keep the loop alive; the next round may succeed
            log.error("reconcile failed: %s: %s", type(exc).__name__, exc)
            continue
        log.info("reconcile: %s", report)
