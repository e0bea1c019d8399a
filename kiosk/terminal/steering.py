"""The settings the console steers: fetched with the heartbeat, kept as the last good copy in the
data directory, and handed to the app to apply at the next Welcome (no Kivy here)."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import ConfigError, Settings
from kiosk.config.steered import parse_steered, steered_from, with_steered
from kiosk.protocol import KioskSettingsResponse
from kiosk.terminal.client import BackendClient, BackendError

log = logging.getLogger("kiosk.steering")

COPY_FILE = "settings.json"


@dataclass(frozen=True)
class SteeredCopy:
    """One answer of GET /kiosks/{id}/settings that this kiosk accepted, with its ETag."""

    answer: KioskSettingsResponse
    etag: str

    def as_json(self) -> dict[str, Any]:
        return {"etag": self.etag, "answer": self.answer.model_dump(mode="json")}


@dataclass(frozen=True)
class SettingsUpdate:
    """What the app applies at the next Welcome: new settings, and a change of service."""

    settings: Settings
    version: int
    # Each None where the console did not change it since the kiosk's last copy; the app
    # then keeps what staff chose on this kiosk in maintenance.
    in_service: bool | None
    high_contrast: bool | None
    language: str | None


class SettingsFollower:
    """Keeps the settings the kiosk runs with in step with the backend's current version.

    Thread-safe: the heartbeat thread fetches, the UI thread takes the update when a patron
    is not in the middle of a journey."""

    def __init__(self, file_settings: Settings, data_dir: Path | str) -> None:
        self.file_settings = file_settings
        self.path = Path(data_dir) / COPY_FILE
        self._lock = threading.Lock()
        self._pending: SettingsUpdate | None = None
        self._refused_etag = ""  # a document this kiosk cannot run (asked again only if changed)
        self.copy = self._load()
        # The copy the app runs with: an update is what changed since it, so two fetches
        # before one Welcome lose neither's changes.
        self._applied: SteeredCopy | None = None
        self.settings = self._settings_of(self.copy) if self.copy is not None else file_settings
        if self.copy is not None and self.settings is file_settings:
            self.copy = None
        self.running_version: int | None = self.copy.answer.version if self.copy else None
        self._applied = self.copy

    # ----------------------------------------------------------- the copy

    def _load(self) -> SteeredCopy | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            copy = SteeredCopy(KioskSettingsResponse.model_validate(raw["answer"]), raw["etag"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("settings copy %s unreadable, using config.toml: %s", self.path, exc)
            return None
        log.info(
            "settings copy loaded: version=%s location=%r",
            copy.answer.version,
            copy.answer.location,
        )
        return copy

    def _settings_of(self, copy: SteeredCopy) -> Settings:
        """The file's settings with the copy's document put in; the file's own on a bad copy."""
        try:
            return with_steered(self.file_settings, parse_steered(copy.answer.settings))
        except ConfigError as exc:
            log.error("settings version %s refused: %s", copy.answer.version, exc)
            return self.file_settings

    def _store(self, copy: SteeredCopy) -> None:
        """Write the copy atomically; a full or read-only disk is logged and the copy still
        holds in memory until the next start."""
        temp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "w", encoding="utf-8") as handle:
                json.dump(copy.as_json(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            log.error("settings copy not saved (kept in memory): %s", exc)

    # ------------------------------------------------------- following

    def fetch(self, client: BackendClient, kiosk_id: str) -> str:
        """Ask the backend, conditionally; returns what happened: "changed", "unchanged",
        "refused" (a document this kiosk cannot run: it keeps the last good copy) or
        "unreachable"."""
        tags = [t for t in (self.copy.etag if self.copy else "", self._refused_etag) if t]
        try:
            answer = client.kiosk_settings(kiosk_id, tags)
        except BackendError as exc:
            log.info("settings not fetched: %s", exc)
            return "unreachable"
        if answer is None:
            return "unchanged"
        copy = SteeredCopy(*answer)
        try:
            settings = with_steered(self.file_settings, parse_steered(copy.answer.settings))
        except ConfigError as exc:
            self._refused_etag = copy.etag
            log.error(
                "settings version %s refused, keeping version %s: %s",
                copy.answer.version,
                self.running_version,
                exc,
            )
            return "refused"
        with self._lock:
            self._pending = _changes(self._applied, copy, settings)
            self.copy = copy
            self._refused_etag = ""
        self._store(copy)
        log.info(
            "settings version %s received (location=%r in_service=%s); applied at the next Welcome",
            copy.answer.version,
            copy.answer.location,
            copy.answer.in_service,
        )
        return "changed"

    def rebase(self, file_settings: Settings) -> Settings:
        """config.toml read again (maintenance's reload): the copy goes on top of it."""
        self.file_settings = file_settings
        self.settings = self._settings_of(self.copy) if self.copy is not None else file_settings
        return self.settings

    def take_update(self) -> SettingsUpdate | None:
        """The update waiting for the next Welcome, once; the caller applies it."""
        with self._lock:
            update, self._pending = self._pending, None
            if update is not None:
                self._applied = self.copy
        if update is not None:
            self.settings = update.settings
            self.running_version = update.version
        return update

    def describe(self) -> dict[str, Any]:
        """What `kiosk settings` prints: the settings this kiosk runs with and where from."""
        copy = self.copy
        steered = parse_steered(copy.answer.settings) if copy is not None else None
        settings = self.settings
        return {
            "kiosk_id": copy.answer.kiosk_id if copy else settings.kiosk.kiosk_id,
            "location": copy.answer.location if copy else "",
            "source": f"backend (copy in {self.path})" if copy else "config file",
            "version": copy.answer.version if copy else None,
            "in_service": copy.answer.in_service if copy else True,
            "backend_url": settings.kiosk.backend_url,
            "settings": (steered or steered_from(settings)).model_dump(mode="json"),
        }


def _changes(before: SteeredCopy | None, after: SteeredCopy, settings: Settings) -> SettingsUpdate:
    """The update `after` makes over `before`: what the console changed, and nothing else. The
    first copy a kiosk gets changes only what the console turned away from the defaults."""
    new = after.answer
    screens = new.settings.get("screens", {})
    if before is None:
        return SettingsUpdate(
            settings,
            new.version,
            in_service=False if not new.in_service else None,
            high_contrast=True if screens.get("high_contrast") else None,
            language=None,
        )
    old = before.answer
    old_screens = old.settings.get("screens", {})

    def changed(key: str) -> Any:
        return screens.get(key) if old_screens.get(key) != screens.get(key) else None

    return SettingsUpdate(
        settings,
        new.version,
        in_service=new.in_service if old.in_service != new.in_service else None,
        high_contrast=changed("high_contrast"),
        language=changed("language"),
    )
