"""What a route may ask for, read from `app.state` (set once by create_app), as `Annotated` types.

Async on purpose: FastAPI runs a sync dependency in the thread pool, one hop per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from kiosk.backend.checkins import CheckinDesk, Clock
from kiosk.backend.desk_placement import DeskPlacement
from kiosk.backend.guests import GuestDesk
from kiosk.backend.provisioning.base import Provisioner
from kiosk.backend.typed_entry import TypedEntry
from kiosk.config import Settings

bearer = HTTPBearer(auto_error=False, description="one of [backend] api_tokens")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_provisioner(request: Request) -> Provisioner:
    provisioner: Provisioner = request.app.state.provisioner
    return provisioner


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_desk(request: Request) -> CheckinDesk:
    desk: CheckinDesk = request.app.state.desk
    return desk


async def get_desk_placement(request: Request) -> DeskPlacement:
    placement: DeskPlacement = request.app.state.desk_placement
    return placement


async def get_guest_desk(request: Request) -> GuestDesk:
    guest_desk: GuestDesk = request.app.state.guest_desk
    return guest_desk


async def get_typed_entry(request: Request) -> TypedEntry:
    typed: TypedEntry = request.app.state.typed_entry
    return typed


async def documented_auth(
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> None:
    """Enforced by RequestGuard before the body is parsed; declared here for /docs."""
    return None


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ProvisionerDep = Annotated[Provisioner, Depends(get_provisioner)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DeskDep = Annotated[CheckinDesk, Depends(get_desk)]
DeskPlacementDep = Annotated[DeskPlacement, Depends(get_desk_placement)]
GuestDeskDep = Annotated[GuestDesk, Depends(get_guest_desk)]
TypedEntryDep = Annotated[TypedEntry, Depends(get_typed_entry)]
AUTHENTICATED = [Depends(documented_auth)]
