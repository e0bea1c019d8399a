"""Where credentials go: local (the backend is the only record), FreeRADIUS SQL, MikroTik REST."""

from __future__ import annotations

from kiosk.backend.provisioning.base import (
    NetworkCredential,
    Provisioner,
    ProvisioningUnavailable,
)
from kiosk.config import ProvisioningSettings

__all__ = ["NetworkCredential", "Provisioner", "ProvisioningUnavailable", "build_provisioner"]


def build_provisioner(settings: ProvisioningSettings) -> Provisioner:
    """The provisioner `[provisioning] kind` names."""
    from kiosk.backend.provisioning.local import LocalProvisioner

    if settings.kind == "local":
        return LocalProvisioner()
    raise NotImplementedError(f"provisioning kind {settings.kind!r} is not built yet")
