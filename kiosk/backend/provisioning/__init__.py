"""Where credentials go: local (the backend is the only record), FreeRADIUS SQL, MikroTik REST."""

from __future__ import annotations

from kiosk.backend.provisioning.base import (
    CredentialRejected,
    NetworkCredential,
    Provisioner,
    ProvisioningUnavailable,
)
from kiosk.config import ConfigError, InternetSettings, ProvisioningSettings

__all__ = [
    "CredentialRejected",
    "NetworkCredential",
    "Provisioner",
    "ProvisioningUnavailable",
    "build_provisioner",
]


def build_provisioner(
    settings: ProvisioningSettings, internet: InternetSettings | None = None
) -> Provisioner:
    """The provisioner `[provisioning] kind` names; ConfigError for a missing or wrong setting.

    Nothing is contacted here: a network side that is down at start-up shows up as
    ProvisioningUnavailable on first use, and the backend still starts."""
    if settings.kind == "local":
        from kiosk.backend.provisioning.local import LocalProvisioner

        return LocalProvisioner()
    if settings.kind == "freeradius-sql":
        from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

        return FreeRadiusSqlProvisioner.from_settings(settings, internet)
    if settings.kind == "mikrotik-rest":
        from kiosk.backend.provisioning.mikrotik import MikrotikProvisioner

        return MikrotikProvisioner.from_settings(settings, internet)
    raise ConfigError(f"provisioning.kind = {settings.kind!r}: not a known provisioner")
