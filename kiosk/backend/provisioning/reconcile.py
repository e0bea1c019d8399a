"""Reconciliation: make the network side hold exactly the backend's active credentials (run
every [provisioning] reconcile_seconds by the backend, and by `kiosk provisioning sync`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from kiosk.backend.provisioning.base import (
    HIDDEN_PASSWORD,
    CredentialRejected,
    NetworkCredential,
    Provisioner,
    ProvisioningUnavailable,
)

log = logging.getLogger(__name__)

# A check-in writes to the network side before its own database commit: a user made this
# recently that `active` does not list yet may be one of those, not a leftover.
JUST_ISSUED = dt.timedelta(minutes=2)


@dataclass
class ReconcileReport:
    """What one reconciliation changed; `problems` names the users it could not fix."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed

    def __str__(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, removed {self.removed}, "
            f"errors {self.errors}"
        )


def _same(held: NetworkCredential, wanted: NetworkCredential) -> bool:
    # The network side keeps expiry to the second (FreeRADIUS's date format, a comment).
    same_expiry = held.expires_at.replace(microsecond=0) == wanted.expires_at.replace(microsecond=0)
    return same_expiry and held.password in (wanted.password, HIDDEN_PASSWORD)


def _just_issued(held: NetworkCredential, now: dt.datetime) -> bool:
    # No upper bound: the check-in may have issued after this round's `now` was taken.
    return (
        held.expires_at > now and held.issued_at is not None and held.issued_at > now - JUST_ISSUED
    )


def reconcile(
    provisioner: Provisioner, active: list[NetworkCredential], now: dt.datetime
) -> ReconcileReport:
    """Create or correct every credential in `active` still valid at `now` on the network side
    and remove every managed user that is not; never touches users the kiosk did not make.

    Raises ProvisioningUnavailable when the network side is down; a single user it refuses
    is counted in `errors` and the rest goes on."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if provisioner.name == "local":
        return ReconcileReport()  # the backend is the only record: nothing to compare with
    wanted = {c.username: c for c in active if c.expires_at > now}
    held = provisioner.current()
    report = ReconcileReport()

    def attempt(kind: str, username: str, change: Callable[[], None]) -> None:
        try:
            change()
        except CredentialRejected as exc:
            report.errors += 1
            report.problems.append(f"{username}: {exc}")
            log.warning("reconcile could not %s %s: %s", kind, username, exc)
            return
        except ProvisioningUnavailable:
            raise
        except Exception as exc:  # one user's surprise must not stop the others' repair
            report.errors += 1
            report.problems.append(f"{username}: {type(exc).__name__}")
            log.exception("reconcile could not %s %s", kind, username)
            return
        setattr(report, kind, getattr(report, kind) + 1)
        log.info("reconcile %s %s", kind, username)

    for username in sorted(held.keys() - wanted.keys()):
        if _just_issued(held[username], now):
            continue
        attempt("removed", username, partial(provisioner.revoke, username))
    for username, credential in sorted(wanted.items()):
        present = held.get(username)
        if present is None:
            attempt("created", username, partial(provisioner.issue, credential))
        elif not _same(present, credential):
            attempt("updated", username, partial(provisioner.renew, credential))
    if report.changed or report.errors:
        log.info("reconcile with %s: %s", provisioner.name, report)
    return report
