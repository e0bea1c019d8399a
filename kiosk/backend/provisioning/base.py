"""The one interface every provisioner (local, FreeRADIUS SQL, MikroTik REST) implements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kiosk.config import Settings


class ProvisioningUnavailable(Exception):
    """The network side cannot take the change now (down, refused, timed out).

    The message is for operators' logs: never include a password in it.
    """


class CredentialRejected(ProvisioningUnavailable):
    """The network side answered but refused this one user (a bad name, a staff account of the
    same name): the check-in still gets 503, reconciliation reports it and goes on."""


class RadiusDatabaseDown(ProvisioningUnavailable):
    """The RADIUS database cannot be reached at all (not merely busy): FreeRADIUS lets no one
    in either, so a check-in keeps its credential and reconciliation writes it later."""


# In a credential read back from the network side: the side would not show the password
# (a RouterOS user without the `sensitive` policy), so only the expiry can be compared.
HIDDEN_PASSWORD = "\x00hidden"


PatronKind = Literal["member", "guest", "group"]


@dataclass(frozen=True)
class NetworkCredential:
    """What the network side needs to let a patron in, until `expires_at` (aware, UTC)."""

    username: str
    password: str
    expires_at: dt.datetime
    # Read back from the network side: when the kiosk made the user there (None: unknown).
    issued_at: dt.datetime | None = field(default=None, compare=False)
    # Whose credential: member, guest or group ([internet.<kind>] is its policy on the network).
    kind: PatronKind = field(default="member", compare=False)

    def __repr__(self) -> str:  # keep passwords out of logs and tracebacks
        return f"NetworkCredential(username={self.username!r}, expires_at={self.expires_at})"


class Provisioner(Protocol):
    """Where credentials go. Every method raises ProvisioningUnavailable when the network
    side cannot be reached or refuses; none may leave a half-made credential behind."""

    name: str
    # True when issue() crosses the network: the check-in desk then holds no database
    # transaction across it (reserve, issue under a lease, confirm).
    remote: bool

    def issue(self, credential: NetworkCredential) -> None:
        """Create the user (or overwrite one of the same name) so it can log in until expiry."""

    def renew(self, credential: NetworkCredential) -> None:
        """Update password and expiry of an existing user (create it when missing)."""

    def revoke(self, username: str) -> None:
        """Remove the user; removing a user that does not exist is not an error."""

    def check(self) -> None:
        """Raise ProvisioningUnavailable unless the network side answers now."""

    def usernames(self) -> set[str]:
        """The users this kiosk backend manages on the network side (for reconciliation)."""

    def current(self) -> dict[str, NetworkCredential]:
        """The users this kiosk backend manages, as the network side holds them now (expiry to
        the second), so reconciliation can tell a stale password or expiry from a good one."""

    def follow(self, settings: Settings) -> None:
        """The console saved new settings: the internet policies the next credential carries."""

    def close(self) -> None:
        """Release connections."""
