"""The kiosk's access to its backend: enrolled with a code, kept in data_dir/access.json (0600)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from kiosk import __version__
from kiosk.config import KioskSettings, Settings
from kiosk.protocol import EnrollRequest, ErrorCode
from kiosk.terminal.client import BackendClient, BackendRejected, BackendUnreachable

log = logging.getLogger("kiosk.enrollment")
ACCESS_FILE = "access.json"
# The backend's refusals in the kiosk's words (its i18n keys end in these).
REASONS = {
    ErrorCode.enrollment_code_wrong.value: "wrong",
    ErrorCode.enrollment_code_used.value: "used",
    ErrorCode.enrollment_code_expired.value: "expired",
    ErrorCode.rate_limited.value: "throttled",
}


@dataclass(frozen=True)
class KioskAccess:
    """What enrollment gave: where the backend is, who this kiosk is, and its token."""

    backend_url: str
    kiosk_id: str
    location: str
    token: str


class EnrollmentRefused(Exception):
    """Enrollment did not happen; `reason`: address, format, wrong, used, expired, throttled,
    unreachable or refused. Nothing was changed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def access_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / ACCESS_FILE


def read_access(data_dir: Path | str) -> KioskAccess | None:
    """The kept access, or None when there is none (an unreadable file is logged, not used)."""
    path = access_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return KioskAccess(**{key: str(data[key]) for key in KioskAccess.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("%s cannot be used (%s): the kiosk needs enrolling", path, type(exc).__name__)
        return None


def write_access(data_dir: Path | str, access: KioskAccess) -> Path:
    """Write access.json atomically, readable by this user only (0600 from its first byte)."""
    path = access_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{ACCESS_FILE}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(access), handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path


def with_access(settings: Settings, access: KioskAccess | None) -> Settings:
    """The settings the kiosk runs with: the file's, with the enrolled address, id and token."""
    if access is None:
        return settings
    return settings.with_overrides(
        kiosk={
            "backend_url": access.backend_url,
            "kiosk_id": access.kiosk_id,
            "api_token": access.token,
        }
    )


def backend_address(text: str) -> str:
    """A typed backend address, tidied ("192.168.1.10:8000" -> "http://192.168.1.10:8000")."""
    address = text.strip().rstrip("/")
    if address and "://" not in address:
        address = "http://" + address
    scheme, _, rest = address.partition("://")
    if scheme not in ("http", "https") or not rest.isprintable() or " " in rest or not rest:
        raise EnrollmentRefused(
            "address", f"{text!r} is not a backend address, e.g. http://192.168.1.10:8000"
        )
    return address


def enroll(settings: Settings, backend_url: str, code: str) -> KioskAccess:
    """Trade a code for this kiosk's access and keep it in data_dir/access.json; or
    EnrollmentRefused, with nothing written."""
    address = backend_address(backend_url)
    try:
        request = EnrollRequest(code="".join(code.split()), version=__version__[:32])
    except ValidationError:
        raise EnrollmentRefused(
            "format", "a code is eight letters and digits, e.g. K7QD-3M9P"
        ) from None
    kiosk = settings.kiosk.model_copy(update={"backend_url": address, "api_token": ""})
    client = BackendClient(kiosk, rate_limit_wait=0)
    try:
        answer = client.enroll(request)
    except BackendRejected as exc:
        raise EnrollmentRefused(REASONS.get(exc.code, "refused"), exc.message) from None
    except BackendUnreachable as exc:
        raise EnrollmentRefused("unreachable", f"{address}: {exc.message}") from None
    finally:
        client.close()
    access = KioskAccess(address, answer.kiosk_id, answer.location, answer.token)
    write_access(settings.kiosk.data_dir, access)
    log.info("enrolled as kiosk %s at %s (location %s)", access.kiosk_id, address, access.location)
    return access


class TokenHolder(Protocol):
    on_unauthorized: Callable[[str], None] | None

    def use(self, settings: KioskSettings) -> None: ...


class AccessKeeper:
    """Which access the kiosk runs with (the file's token, or access.json's), the clients that
    carry it, and whether the kiosk should show its setup screen."""

    def __init__(self, file_settings: Settings) -> None:
        self.file_settings = file_settings
        self.access = read_access(file_settings.kiosk.data_dir)
        # No token in the file and none enrolled: the setup screen, until a code is typed.
        self.setup_wanted = self.access is None and not file_settings.kiosk.api_token
        self._revoked_url = ""  # the address a revoked kiosk used: its setup screen's default
        self._clients: list[TokenHolder] = []
        self._listeners: list[Callable[[Settings], None]] = []
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return with_access(self.file_settings, self.access)

    @property
    def backend_url(self) -> str:
        """The address the setup screen offers: the enrolled one, else the file's."""
        if self.access is not None:
            return self.access.backend_url
        return self._revoked_url or self.file_settings.kiosk.backend_url

    def reloaded(self, file_settings: Settings) -> Settings:
        """config.toml read again: the settings to run with (access.json still wins)."""
        self.file_settings = file_settings
        return self.settings

    def watch(self, client: TokenHolder) -> None:
        """Give `client` the new token on enrollment, and hear from it when its token is refused."""
        client.on_unauthorized = self.token_refused
        self._clients.append(client)

    def on_change(self, listener: Callable[[Settings], None]) -> None:
        self._listeners.append(listener)

    def token_refused(self, token: str) -> None:
        """A 401 (from any thread): an enrolled kiosk's token was revoked, so access.json goes
        and the setup screen comes at the next Welcome. A config.toml token stays as it is."""
        with self._lock:
            if self.access is None or self.access.token != token:
                return
            access_path(self.file_settings.kiosk.data_dir).unlink(missing_ok=True)
            log.warning(
                "the backend refused kiosk %s's token (revoked?): access.json removed; "
                "the setup screen shows at the next Welcome",
                self.access.kiosk_id,
            )
            self._revoked_url = self.access.backend_url
            self.access = None
            self.setup_wanted = True

    def enroll(self, backend_url: str, code: str) -> Settings:
        """Enroll (EnrollmentRefused: nothing changed) and hand the new access to every client."""
        return self._use(enroll(self.file_settings, backend_url, code))

    def picked_up(self) -> Settings | None:
        """While setup is wanted: access.json written meanwhile by `kiosk enroll`, in use from
        now on (the settings to run with), or None."""
        if not self.setup_wanted:
            return None
        access = read_access(self.file_settings.kiosk.data_dir)
        return self._use(access) if access is not None else None

    def _use(self, access: KioskAccess) -> Settings:
        with self._lock:
            self.access = access
            self.setup_wanted = False
            settings = self.settings
        for client in self._clients:
            client.use(settings.kiosk)
        for listener in self._listeners:
            listener(settings)
        return settings
