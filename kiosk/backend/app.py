"""FastAPI application factory `create_app(settings)`: wires state, routes, errors and the guard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from kiosk import __version__
from kiosk.backend.api.auth import TokenCheck
from kiosk.backend.api.docs import install_api_docs
from kiosk.backend.api.enroll import install_enrollment
from kiosk.backend.api.errors import install_error_handlers
from kiosk.backend.api.guard import install_request_guard
from kiosk.backend.api.routes import router
from kiosk.backend.api.steering import router as steering_router
from kiosk.backend.console import audit
from kiosk.backend.console.routes import install_console
from kiosk.backend.db import create_db_engine, migrate
from kiosk.backend.desk.checkins import CheckinDesk, Clock, utc_now
from kiosk.backend.desk.guests import GuestDesk
from kiosk.backend.desk.network_sync import reconcile_forever
from kiosk.backend.desk.placement import DeskPlacement
from kiosk.backend.desk.typed_entry import TypedEntry
from kiosk.backend.kiosks import RegisteredTokens
from kiosk.backend.metrics import metrics_router
from kiosk.backend.privacy.personal_data import purge_forever
from kiosk.backend.provisioning import build_provisioner
from kiosk.backend.provisioning.base import Provisioner
from kiosk.backend.provisioning.usage import record_of_use
from kiosk.backend.steering.in_force import SettingsInForce
from kiosk.config import ConfigError, Settings

log = logging.getLogger("kiosk.backend")


API_DESCRIPTION = (
    "Member lookup, the electronic guestbook and Wi-Fi credentials for the library's "
    "self-service kiosks. Every endpoint but health (and enrollment) needs `Authorization: "
    'Bearer <token>`; errors are `{"error": {"code", "message"}}`.'
)


def request_threads(configured: int, desk: CheckinDesk) -> int:
    """[backend] request_threads, or for 0 the number that suits what routes wait on: few
    when no route waits on the network (threads then only fight over the GIL), anyio's 40
    when a router, RADIUS or the library's database can hold a thread for seconds."""
    if configured:
        return configured
    return 40 if desk.waits_on_network else 8


def log_ready(engine: Engine, network: Provisioner, threads: int, placement: DeskPlacement) -> None:
    """The operator's line that the backend answers now, and how it is set up."""
    log.info(
        "backend %s ready: database %s, provisioning %s, request threads %d, check-ins %s",
        __version__,
        engine.url.render_as_string(hide_password=True),
        network.name,
        threads,
        "on the event loop" if placement.on_loop else "in request threads",
    )


def create_app(
    settings: Settings,
    *,
    run_migrations: bool = True,
    provisioner: Provisioner | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The backend app for these settings. Migrations run at start-up unless the caller
    already ran them (several workers)."""
    backend = settings.backend
    if not backend.api_tokens:
        raise ConfigError(
            "[backend] api_tokens is empty: the backend refuses to start without at least one "
            "token (16+ characters), e.g. api_tokens = [\"<python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))'>\"]"
        )
    engine = create_db_engine(backend.database_url)
    network = provisioner or build_provisioner(settings.provisioning, settings.internet)
    desk = CheckinDesk(engine, settings, network, clock)
    placement = DeskPlacement(desk)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await anyio.to_thread.run_sync(migrate, engine)
        threads = request_threads(backend.request_threads, desk)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        loop_task = asyncio.create_task(
            reconcile_forever(engine, network, clock, settings.provisioning.reconcile_seconds)
        )
        drain_task = asyncio.create_task(desk.library.drain_forever(clock))
        purge_task = asyncio.create_task(
            purge_forever(engine, settings.privacy.retention_days, clock, record_of_use(network))
        )
        log_ready(engine, network, threads, placement)
        try:
            yield
        finally:
            for task in (loop_task, drain_task, purge_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            network.close()
            desk.library.close()
            placement.close()
            engine.dispose()

    app = FastAPI(
        title="Kiosk credential backend",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # What kiosk.backend.api.deps hands to the routes.
    app.state.settings = settings
    app.state.engine = engine
    app.state.provisioner = network
    app.state.clock = clock
    app.state.desk = desk
    app.state.desk_placement = placement
    app.state.guest_desk = GuestDesk(desk)
    app.state.typed_entry = TypedEntry(engine, settings.members.typed_entry, clock)
    app.state.in_force = SettingsInForce(settings, engine, clock, [desk, app.state.typed_entry])
    app.include_router(router)
    app.include_router(steering_router)
    install_enrollment(app, backend, engine, audit.record)
    app.include_router(metrics_router(engine, backend.metrics_allow))
    install_api_docs(app)
    install_console(app, desk, clock)
    install_error_handlers(app)
    install_request_guard(
        app,
        backend,
        engine,
        TokenCheck(backend.api_tokens, RegisteredTokens(engine), backend.api_token_kiosks),
    )
    return app


def app_from_environment() -> FastAPI:
    """Uvicorn worker factory (several workers): the config path comes in KIOSK_CONFIG."""
    import os

    from kiosk.config import load_settings
    from kiosk.logs import setup_logging

    settings = load_settings(os.environ.get("KIOSK_CONFIG") or None)
    workers = os.environ.get("KIOSK_WORKERS", "")
    if workers.isdigit():  # `kiosk backend --workers N` over the file's [backend] workers
        backend = settings.backend.model_copy(update={"workers": int(workers)})
        settings = settings.model_copy(update={"backend": backend})
    # A spawned worker starts with no log handlers; all workers append to one file.
    setup_logging(settings.backend.log_dir, "backend")
    return create_app(settings, run_migrations=False)
