"""Hands the database's active credentials to provisioning's reconcile() (loop and CLI)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from sqlalchemy.engine import Engine

from kiosk.backend.credentials import active_credentials
from kiosk.backend.db import read_session
from kiosk.backend.provisioning.base import Provisioner

RECONCILE_MODULE = "kiosk.backend.provisioning.reconcile"


def reconcile_once(engine: Engine, provisioner: Provisioner, now: dt.datetime) -> Any | None:
    """Run `reconcile(provisioner, active, now)` once and return its report, or None when
    the provisioning package has no reconcile module (yet)."""
    try:
        module = importlib.import_module(RECONCILE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == RECONCILE_MODULE:
            return None
        raise
    with read_session(engine) as session:
        active = active_credentials(session, now)
    return module.reconcile(provisioner, active, now)
