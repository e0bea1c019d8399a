"""What a route may ask for, read from `app.state` (set once by create_app), as Annotated types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from kiosk.backend.desk.checkins import CheckinDesk, Clock
from kiosk.backend.desk.guests import GuestDesk
from kiosk.backend.desk.placement import DeskPlacement
from kiosk.backend.desk.typed_entry import TypedEntry
from kiosk.backend.provisioning.base import Provisioner
from kiosk.config import Settings

bearer = HTTPBearer(auto_error=False, description="one of [backend] api_tokens")


def from_state(attribute: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that hands the route `app.state.<attribute>`."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    dependency.__name__ = f"state_{attribute}"
    return dependency


async def documented_auth(
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> None:
    """Enforced by RequestGuard before the body is parsed; declared here for /docs."""
    return None


def settings_in_force(request: Request) -> None:
    """Before a kiosk's request: the newest settings the console saved, in the desk's parts."""
    in_force = getattr(request.app.state, "in_force", None)
    if in_force is not None:
        in_force.refresh()


SettingsDep = Annotated[Settings, Depends(from_state("settings"))]
EngineDep = Annotated[Engine, Depends(from_state("engine"))]
ProvisionerDep = Annotated[Provisioner, Depends(from_state("provisioner"))]
ClockDep = Annotated[Clock, Depends(from_state("clock"))]
DeskDep = Annotated[CheckinDesk, Depends(from_state("desk"))]
DeskPlacementDep = Annotated[DeskPlacement, Depends(from_state("desk_placement"))]
GuestDeskDep = Annotated[GuestDesk, Depends(from_state("guest_desk"))]
TypedEntryDep = Annotated[TypedEntry, Depends(from_state("typed_entry"))]
AUTHENTICATED = [Depends(documented_auth), Depends(settings_in_force)]
