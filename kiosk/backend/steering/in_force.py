"""The backend's own parts follow the newest steered version: the desk's guest policy, card
pattern and repeat window, typed entry, and the network's internet policies."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import sqlalchemy as sa

from kiosk.backend.steering import versions
from kiosk.config import Settings
from kiosk.config.steered import with_steered

log = logging.getLogger("kiosk.backend.steering")

# A save in the console reaches every worker process within this many seconds.
CHECK_EVERY_SECONDS = 2.0


class FollowsSettings(Protocol):
    """A part built from config.toml that takes the steered sections it uses."""

    def follow(self, settings: Settings) -> None: ...


class SettingsInForce:
    """Checks the newest version at most every CHECK_EVERY_SECONDS and, when it changed, puts
    it into the parts that were built from config.toml. Thread-safe; never raises (a database
    that cannot answer leaves the parts on the version they have)."""

    def __init__(
        self,
        file_settings: Settings,
        engine: sa.engine.Engine,
        clock: Callable[[], dt.datetime],
        parts: Sequence[FollowsSettings],
    ) -> None:
        self.file_settings = file_settings
        self.engine = engine
        self.clock = clock
        self.parts = parts  # the desk, the typed entry, the provisioner
        self.version: int | None = None
        self.settings = file_settings
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def refresh(self, at_once: bool = False) -> Settings:
        """The settings in force now, after putting a newer version into the parts; at_once:
        ask the database now (the console, whose admin may have just saved one)."""
        now = time.monotonic()
        if not at_once and now - self._checked < CHECK_EVERY_SECONDS:
            return self.settings
        with self._lock:
            if not at_once and now - self._checked < CHECK_EVERY_SECONDS:
                return self.settings
            self._checked = now
            try:
                current = versions.current(self.engine, self.file_settings, self.clock())
            except Exception as exc:  # the database's trouble is reported by /health
                log.warning("settings version not checked: %s: %s", type(exc).__name__, exc)
                return self.settings
            if current.number != self.version:
                self.settings = with_steered(self.file_settings, current.document)
                self.version = current.number
                for part in self.parts:
                    part.follow(self.settings)
                log.info("settings version %s in force", current.number)
        return self.settings
