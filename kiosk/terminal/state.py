"""What the kiosk must remember across restarts: out-of-service, the default language, the
high-contrast theme and whom the satisfaction survey asked lately (salted hashes)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.terminal.session.survey import SurveyPolicy

log = logging.getLogger("kiosk.state")


class KioskState:
    """A small JSON file, written atomically (temp file + rename) so a power cut keeps
    either the old or the new state, never half of one."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"out_of_service": False, "language": ""}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._data.update(loaded)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("kiosk state unreadable, starting from defaults: %s", exc)

    @property
    def out_of_service(self) -> bool:
        return bool(self._data.get("out_of_service"))

    @property
    def language(self) -> str:
        return str(self._data.get("language") or "")

    @property
    def skm_asked(self) -> dict[str, str]:
        asked = self._data.get("skm_asked")
        return {str(k): str(v) for k, v in asked.items()} if isinstance(asked, dict) else {}

    def skm_salt(self) -> str:
        """This kiosk's salt for the survey's patron hashes, made on first use."""
        salt = self._data.get("skm_salt")
        if not isinstance(salt, str) or len(salt) < 16:
            salt = secrets.token_hex(16)
            self.update(skm_salt=salt)
        return salt

    @property
    def high_contrast(self) -> bool:
        return bool(self._data.get("high_contrast"))

    def update(self, **values: Any) -> None:
        with self._lock:
            self._data.update(values)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_suffix(".tmp")
            with open(temp, "w", encoding="utf-8") as handle:
                json.dump(self._data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)


def survey_policy(settings: Settings, state: KioskState | None) -> SurveyPolicy:
    """[skm] as the patron session applies it, with whom this kiosk asked lately."""
    return SurveyPolicy(
        enabled=settings.skm.enabled,
        every_days=settings.skm.ask_every_days,
        salt=state.skm_salt() if state is not None else secrets.token_hex(16),
        asked=state.skm_asked if state is not None else {},
    )
