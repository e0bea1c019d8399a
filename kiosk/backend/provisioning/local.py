"""The `local` provisioner: the backend's own database is the only record of credentials."""

from __future__ import annotations

from kiosk.backend.provisioning.base import NetworkCredential


class LocalProvisioner:
    """Nothing to push anywhere: the captive portal (if any) asks the backend itself."""

    name = "local"
    remote = False  # issuing touches nothing outside the backend's own database

    def issue(self, credential: NetworkCredential) -> None:
        return None

    def renew(self, credential: NetworkCredential) -> None:
        return None

    def revoke(self, username: str) -> None:
        return None

    def check(self) -> None:
        return None

    def usernames(self) -> set[str]:
        return set()

    def current(self) -> dict[str, NetworkCredential]:
        return {}

    def close(self) -> None:
        return None
