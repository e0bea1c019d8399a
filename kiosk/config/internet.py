"""The library's rules on the network per kind of patron ([internet.member|guest|group]) and
the RADIUS server the project writes ([provisioning.radius])."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InternetPolicy(_Section):
    """One kind of patron's rules; 0 means no limit (or, for idle, the NAS's own default)."""

    daily_minutes: int = Field(120, ge=0, le=1440)
    devices: int = Field(1, ge=0, le=100)
    download_kbps: int = Field(2048, ge=0, le=10_000_000)
    upload_kbps: int = Field(1024, ge=0, le=10_000_000)
    idle_minutes: int = Field(15, ge=0, le=1440)


class InternetSettings(_Section):
    member: InternetPolicy = Field(default_factory=InternetPolicy)
    guest: InternetPolicy = Field(default_factory=lambda: InternetPolicy(daily_minutes=60))
    group: InternetPolicy = Field(default_factory=lambda: InternetPolicy(daily_minutes=60))

    def for_kind(self, kind: str) -> InternetPolicy:
        """The policy of a credential's kind: member, guest or group."""
        policy: InternetPolicy = getattr(self, kind)
        return policy


class RadiusClient(_Section):
    """A NAS (hotspot router, access point) allowed to ask the RADIUS server."""

    address: str
    secret: str = Field(min_length=8, max_length=128)
    name: str = Field("", max_length=31, pattern=r"^[A-Za-z0-9_-]*$")

    @field_validator("address")
    @classmethod
    def _network(cls, value: str) -> str:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {value!r}") from exc
        return value

    @field_validator("secret")
    @classmethod
    def _plain(cls, value: str) -> str:
        if any(c in value for c in '"\\\n\r') or not value.isprintable():
            raise ValueError("no quotes, backslashes or control characters in a RADIUS secret")
        return value


class RadiusNas(_Section):
    """A NAS that takes RFC 5176 Disconnect-Requests (MikroTik: /radius incoming set accept=yes)."""

    address: str
    coa_port: int = Field(3799, ge=1, le=65535)
    secret: str = Field(min_length=8, max_length=128)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError as exc:
            raise ValueError(f"not an IP address: {value!r}") from exc
        return value


class RadiusSettings(_Section):
    """What `kiosk network radius-config` writes: ports, NAS clients, the EAP certificate."""

    listen_address: str = "*"
    auth_port: int = Field(1812, ge=1, le=65535)
    acct_port: int = Field(1813, ge=1, le=65535)
    clients: list[RadiusClient] = Field(default_factory=list)
    # Where revoked, erased and expired credentials' live sessions are ended (RFC 5176).
    nas: list[RadiusNas] = Field(default_factory=list)
    # EAP (PEAP, TTLS): empty = a self-signed pair is generated beside the configuration.
    certificate: str = ""
    private_key: str = ""
    # Seconds before an Access-Reject (FreeRADIUS's guard against password guessing).
    reject_delay: int = Field(1, ge=0, le=5)
