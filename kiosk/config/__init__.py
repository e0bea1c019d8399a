"""Load and validate config.toml (one file, a section per side) into typed settings."""

from __future__ import annotations

import re
import tomllib
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kiosk.config.guestbook import Choice as Choice  # re-exported: config's vocabulary
from kiosk.config.guestbook import GuestbookField, Text, default_fields
from kiosk.config.guests import GuestSettings
from kiosk.config.internet import InternetPolicy as InternetPolicy  # re-exported
from kiosk.config.internet import InternetSettings, RadiusSettings
from kiosk.config.internet import RadiusClient as RadiusClient  # re-exported
from kiosk.config.members import MembersSettings
from kiosk.config.privacy_notice import PRIVACY_NOTICE, PRIVACY_NOTICE_FULL, with_retention
from kiosk.protocol import KIOSK_ID_PATTERN

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_CARD_PATTERN = (
    r"(?P<start>[A-D](?=[0-9]{4,20}[A-D]$))?(?P<id>[A-Z0-9][A-Z0-9-]{2,18}[A-Z0-9])(?(start)[A-D])"
)


def _known_time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


# An IANA time zone name; the second kind may be empty ("this machine's").
TimeZone = Annotated[str, AfterValidator(_known_time_zone)]
TimeZoneOrLocal = Annotated[str, AfterValidator(lambda v: _known_time_zone(v) if v else v)]


class ConfigError(Exception):
    """The configuration file is missing, unreadable or holds a wrong value."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- kiosk side


class Timeouts(_Section):
    """Seconds each patron-facing state may last before the kiosk returns to Welcome."""

    lookup: float = Field(8.0, gt=0)
    guestbook: float = Field(90.0, gt=0)
    checkin: float = Field(12.0, gt=0)
    credentials: float = Field(60.0, gt=0)
    thanks: float = Field(20.0, gt=0)  # time to read it slowly and tap Selesai
    notice: float = Field(10.0, gt=0)
    keypad: float = Field(45.0, gt=0)
    # A "still there?" warning this many seconds before the guestbook or the keypad clears
    # (at most 4/5 of that screen's timeout); one tap continues (WCAG 2.2.1).
    warning: float = Field(20.0, gt=0)
    # After a journey ends, the same card again is ignored this long (a patron still holding
    # it up, a looping demo video) unless another card or a tap on Welcome comes first.
    same_card: float = Field(30.0, ge=0)


class ScannerSettings(_Section):
    # "auto" = first camera found, else the demo video; an integer index; a device path;
    # a video file; or a folder of images.
    camera: str = "auto"
    width: int = Field(1280, gt=0)
    height: int = Field(720, gt=0)
    # The decoder chain, tried in order on each frame (names: "zxing-cpp", "pyzbar", "wechat").
    decoders: list[str] = Field(default_factory=lambda: ["zxing-cpp", "pyzbar", "wechat"])
    # zxing-cpp BarcodeFormat names of the symbologies to look for.
    formats: list[str] = Field(
        default_factory=lambda: ["Codabar", "Code128", "Code39", "EAN13", "ITF", "QRCode"]
    )
    frame_budget_ms: float = Field(30.0, gt=0)
    # The budget counted in the decoding thread's CPU time (a busy core slows frames down
    # but costs no reads), or, false, in wall time.
    budget_in_cpu_time: bool = True
    debounce_seconds: float = Field(5.0, ge=0)
    # Optional check digits (Code 39 mod 43, ITF) are verified only when true.
    verify_optional_checksums: bool = False
    loop_video: bool = True
    # Decode only frames with something in front of the camera (a change, or a difference
    # from the learned empty scene); with nothing there, once every idle_decode_seconds.
    idle_gate: bool = True
    idle_decode_seconds: float = Field(1.0, gt=0)


class KioskSettings(_Section):
    backend_url: str = "http://127.0.0.1:8080"
    api_token: str = ""
    # Letters, digits and -_.: (up to 64): the backend refuses any other kiosk id.
    kiosk_id: str = Field("kiosk-1", pattern=KIOSK_ID_PATTERN)
    language: Literal["id", "en"] = "id"
    # A CA bundle for a library's own TLS certificate; empty = the system's.
    ca_file: str = ""
    connect_timeout: float = Field(3.0, gt=0)
    read_timeout: float = Field(8.0, gt=0)
    # Where the kiosk keeps its outbox, state and logs.
    data_dir: str = "var"
    # How often the kiosk says it is alive and asks whether the console changed its settings.
    heartbeat_seconds: float = Field(60.0, ge=0.2, le=3600)
    fullscreen: bool = True
    sound: bool = True
    timeouts: Timeouts = Field(default_factory=Timeouts)
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)


class Signatory(_Section):
    """Who signs the reports for the Dinas (name, NIP, and the title above the signature)."""

    name: str = ""
    nip: str = ""
    title: str = "Kepala Dinas"


class LibrarySettings(_Section):
    name: str = "Perpustakaan Provinsi Kepulauan Bangka Belitung"
    logo: str = ""
    # The reports' kop: lines from the government down to the address; empty: the name only.
    letterhead: list[str] = Field(default_factory=list)
    # The place in the reports' "Pangkalpinang, 1 Desember 2026" above the signature.
    city: str = ""
    signatory: Signatory = Field(default_factory=Signatory)
    wifi_ssid: str = "Perpustakaan-Publik"
    login_url: str = "http://login.perpustakaan.lan"
    # QR payload for a phone. Placeholders: {ssid} {username} {password} {login_url}.
    qr_template: str = "WIFI:T:nopass;S:{ssid};;"

    # A second QR that logs a phone in (MikroTik's HTTP-PAP login takes the credential in the
    # URL); empty: no second QR. Placeholders as qr_template's and {login_host}, url-encoded.
    login_qr_template: str = ""

    @field_validator("qr_template", "login_qr_template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            value.format(ssid="s", username="u", password="p", login_url="l", login_host="h")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"placeholders are {{ssid}} {{username}} {{password}} {{login_url}} "
                f"{{login_host}} (write {{{{ and }}}} for a literal brace): {exc!r}"
            ) from None
        return value

    def wifi_qr(self, username: str, password: str) -> str:
        """The first QR's text: joining the Wi-Fi (qr_template, values as they are)."""
        return self.qr_template.format(**self._qr_values(username, password))

    def login_qr(self, username: str, password: str) -> str:
        """The second QR's text: the hotspot's login URL with the credential ("" when unset)."""
        values = self._qr_values(username, password)
        for key in ("ssid", "username", "password"):  # the URL's parts stay as written
            values[key] = urllib.parse.quote(values[key], safe="")
        return self.login_qr_template.format(**values)

    def _qr_values(self, username: str, password: str) -> dict[str, str]:
        parts = urllib.parse.urlsplit(self.login_url)
        host = parts.netloc or self.login_url.split("/")[0]
        return {
            "ssid": self.wifi_ssid,
            "username": username,
            "password": password,
            "login_url": self.login_url,
            "login_host": host,
        }


class CardSettings(_Section):
    # A regular expression with a named group `id`, matched (case-insensitively) against
    # the whole scanned text, surrounding whitespace ignored. The default takes 4-20
    # letters, digits and inner dashes, and also Codabar start/stop letters around digits
    # (A0012345B reads as 0012345).
    pattern: str = DEFAULT_CARD_PATTERN

    @field_validator("pattern")
    @classmethod
    def _compiles_with_id_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        if "id" not in compiled.groupindex:
            raise ValueError("needs a named group (?P<id>...)")
        return value


class GuestbookSettings(_Section):
    fields: list[GuestbookField] = Field(default_factory=default_fields)
    # A member's further visits inside this window are not counted again (0: every visit).
    repeat_window_minutes: int = Field(0, ge=0, le=1440)
    # "{retention}" becomes [privacy] retention_days in words ("1 tahun", "6 months").
    privacy_notice: Text = Text(**PRIVACY_NOTICE)
    privacy_notice_full: Text = Text(**PRIVACY_NOTICE_FULL)

    @field_validator("fields")
    @classmethod
    def _unique_keys(cls, fields: list[GuestbookField]) -> list[GuestbookField]:
        keys = [f.key for f in fields]
        if len(keys) != len(set(keys)):
            raise ValueError(f"field keys must be unique, got {keys}")
        for f in fields:
            if f.kind == "choice" and not f.choices:
                raise ValueError(f"field {f.key!r} is a choice with no choices")
        return fields


# -------------------------------------------------------------- backend side


class CredentialSettings(_Section):
    valid_days: int = Field(1, ge=1, le=3650)
    # 9 or more: at least 40 bits from the 26-character alphabet (backend/desk/credentials.py).
    password_length: int = Field(10, ge=9, le=64)
    # "random": a prefix plus random letters/digits, not guessable from the member id;
    # "member-id": the member id itself (guessable: only where the library wants it).
    username_style: Literal["random", "member-id"] = "random"
    username_prefix: str = Field("p", pattern=r"^[a-z]{0,8}$")
    username_length: int = Field(6, ge=4, le=32)


class BackendSettings(_Section):
    database_url: str = "sqlite:///var/kiosk.db"
    api_tokens: list[str] = Field(default_factory=list)
    # kiosk id -> one of api_tokens: that token may speak only for that kiosk id (403 else).
    api_token_kiosks: dict[str, str] = Field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    timezone: TimeZone = "Asia/Jakarta"
    rate_limit_per_minute: int = Field(600, ge=1)
    auth_failures_per_minute: int = Field(30, ge=1)
    # Where the rate limits count: "auto" (the database on PostgreSQL; on SQLite this process,
    # each worker with its share), "database" or "process".
    shared_limits: Literal["auto", "database", "process"] = "auto"
    # member_not_found answers per token in ten minutes before its lookups pause (429).
    unknown_members_per_10_minutes: int = Field(20, ge=1)
    max_body_bytes: int = Field(16_384, ge=1024)
    # Per backend process: connections beyond these are closed at once; a request whose
    # headers are not complete in header_timeout_seconds is closed (slow or idle clients).
    max_connections: int = Field(1000, ge=8)
    max_connections_per_address: int = Field(64, ge=2)
    header_timeout_seconds: float = Field(10.0, ge=1.0, le=300.0, allow_inf_nan=False)
    # The reverse proxy's addresses: every kiosk comes through them, so no per-address bound.
    proxy_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    max_answers_bytes: int = Field(4_096, ge=256)
    workers: int = Field(1, ge=1, le=64)
    # Threads a worker runs its routes in; 0: 8 when nothing a route does waits on the
    # network (the local provisioner, members in the CSV table), else 40 (anyio's own).
    # Fewer threads fight less over the GIL: 1 worker sustains 200 check-ins/s, not 150.
    request_threads: int = Field(0, ge=0, le=400)
    log_dir: str = "var/log"
    # Addresses or networks that may read GET /metrics (no token needed or accepted).
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1"])

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        import ipaddress

        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an address or network") from exc
        return entries

    @model_validator(mode="after")
    def _bound_tokens_are_tokens(self) -> BackendSettings:
        for kiosk_id, token in self.api_token_kiosks.items():
            if token not in self.api_tokens:
                raise ValueError(
                    f"api_token_kiosks: the token of {kiosk_id!r} is not in api_tokens"
                )
        return self

    @field_validator("api_tokens")
    @classmethod
    def _tokens_long_enough(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            if len(token) < 16:
                raise ValueError("each token must be at least 16 characters")
        return tokens


class MikrotikSettings(_Section):
    url: str = "https://192.168.88.1"
    user: str = "kiosk"
    # Empty: taken from the environment variable KIOSK_MIKROTIK_PASSWORD.
    password: str = ""
    profile: str = "default"
    ca_file: str = ""
    timeout: float = Field(5.0, gt=0)


class ProvisioningSettings(_Section):
    kind: Literal["local", "freeradius-sql", "mikrotik-rest"] = "local"
    # freeradius-sql: the FreeRADIUS database (SQLite, MySQL/MariaDB or PostgreSQL URL).
    database_url: str = ""
    group: str = ""
    # freeradius-sql: the time zone FreeRADIUS runs in (it reads `Expiration` as local wall
    # time); empty = this machine's.
    radius_timezone: TimeZoneOrLocal = ""
    reconcile_seconds: float = Field(60.0, gt=0)
    mikrotik: MikrotikSettings = Field(default_factory=MikrotikSettings)
    radius: RadiusSettings = Field(default_factory=RadiusSettings)


class MaintenanceSettings(_Section):
    pin_hash: str = ""
    max_attempts: int = Field(5, ge=1)
    lockout_minutes: float = Field(5.0, gt=0)
    close_after_seconds: float = Field(60.0, gt=0)
    gesture_seconds: float = Field(3.0, gt=0)


class PrivacySettings(_Section):
    # Visits are kept this long; the backend refuses a visit whose occurred_at is older.
    retention_days: int = Field(365, ge=1, le=3650)


class SkmSettings(_Section):
    """The public's satisfaction survey (SKM, PermenPANRB 14/2017) offered after a visit."""

    enabled: bool = True
    # A patron is asked at most once in this many days (the kiosk remembers a salted hash).
    ask_every_days: int = Field(90, ge=1, le=3650)


class Settings(_Section):
    kiosk: KioskSettings = Field(default_factory=KioskSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    cards: CardSettings = Field(default_factory=CardSettings)
    guestbook: GuestbookSettings = Field(default_factory=GuestbookSettings)
    credentials: CredentialSettings = Field(default_factory=CredentialSettings)
    backend: BackendSettings = Field(default_factory=BackendSettings)
    provisioning: ProvisioningSettings = Field(default_factory=ProvisioningSettings)
    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)
    members: MembersSettings = Field(default_factory=MembersSettings)
    guests: GuestSettings = Field(default_factory=GuestSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    internet: InternetSettings = Field(default_factory=InternetSettings)
    skm: SkmSettings = Field(default_factory=SkmSettings)

    @model_validator(mode="before")
    @classmethod
    def _notice_follows_retention(cls, data: Any) -> Any:
        return with_retention(data) if isinstance(data, dict) else data

    def with_overrides(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some keys of some sections replaced (validated again)."""
        data = self.model_dump()
        for section, values in sections.items():
            data[section] = merge_sections(data.get(section, {}), values)
        return parse_settings(data)


def merge_sections(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with the keys of `extra` put in, nested tables merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_sections(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key (is it misspelled?)"
    if error["type"] == "missing":
        return f"{loc}: required key is missing"
    return f"{loc} = {error.get('input')!r}: {message}"


def parse_settings(data: dict[str, Any], source: str = "config") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_settings(path: Path | str | None = None) -> Settings:
    """Read config.toml; a missing default file means all defaults, a missing named one is an
    error."""
    explicit = path is not None
    config_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if not config_path.exists():
        if explicit:
            raise ConfigError(f"{config_path}: no such configuration file")
        return Settings()
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc}") from None
    return parse_settings(data, str(config_path))
