"""Prometheus figures of the backend: counters, latency per route, kiosk heartbeats, /metrics."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from kiosk.backend.db import KioskRow, read_session
from kiosk.protocol import ErrorCode, error_envelope

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

CHECKINS = Counter("kiosk_checkins", "Check-ins (POST /checkins and /visits) by result", ["result"])
LOOKUPS = Counter("kiosk_lookups", "Member lookups (POST /members/lookup) by result", ["result"])
CREDENTIALS_ISSUED = Counter(
    "kiosk_credentials_issued", "New Wi-Fi credentials the network side accepted"
)
PROVISIONING_ERRORS = Counter(
    "kiosk_provisioning_errors", "Requests answered 503 because the network side refused"
)
DATABASE_ERRORS = Counter("kiosk_database_errors", "Requests that failed on a database error")
REQUEST_SECONDS = Histogram(
    "kiosk_request_duration_seconds",
    "Time from request to answer, per route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def result_of(exc: BaseException) -> str:
    """A short label for why a check-in or lookup did not succeed."""
    status = getattr(exc, "status", None)
    value = getattr(status, "value", None)
    if isinstance(value, str):
        return f"member_{value}"
    name = type(exc).__name__
    return {
        "MemberNotFound": "member_not_found",
        "ClientRefConflict": "client_ref_conflict",
        "ProvisioningUnavailable": "provisioning_unavailable",
        "LibraryUnavailable": "library_unavailable",
        "AnswersTooLarge": "invalid_request",
        "VerificationFailed": "verification_failed",
        "VerificationLocked": "verification_locked",
    }.get(name, "error")


def route_label(scope: dict[str, object] | object) -> str:
    """The matched route's template (`/api/v1/checkins`), never the raw path."""
    route = scope.get("route") if isinstance(scope, dict) else None
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _forget_dead_starts(metrics_dir: Path) -> None:
    """Remove the worker files of starts whose process is gone (a SIGKILL skips the
    cleanup at exit); a directory is named <time>-<pid>."""
    if not metrics_dir.is_dir():
        return
    for start in metrics_dir.iterdir():
        pid = start.name.rpartition("-")[2]
        if not start.is_dir() or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(start, ignore_errors=True)
        except PermissionError:
            continue  # alive, another user's


def start_multiprocess_dir(var_dir: Path) -> Path:
    """A fresh directory for this start's worker files; the workers inherit it by env.
    Directories left by starts that were killed are removed first."""
    _forget_dead_starts(var_dir / "metrics")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = var_dir / "metrics" / f"{stamp}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=False)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def end_multiprocess_dir(path: Path) -> None:
    os.environ.pop(MULTIPROC_ENV, None)
    shutil.rmtree(path, ignore_errors=True)


class KioskHeartbeats(Collector):
    """Per-kiosk gauges from the last heartbeat each kiosk sent (table `kiosks`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        contact = GaugeMetricFamily(
            "kiosk_last_contact_timestamp_seconds",
            "Unix time of the kiosk's last heartbeat",
            labels=["kiosk"],
        )
        outbox = GaugeMetricFamily(
            "kiosk_outbox_depth", "Visits waiting in the kiosk's outbox", labels=["kiosk"]
        )
        dead = GaugeMetricFamily(
            "kiosk_dead_letters", "Visits the kiosk gave up sending", labels=["kiosk"]
        )
        camera = GaugeMetricFamily(
            "kiosk_camera_state",
            "1 for the camera state the kiosk reported",
            labels=["kiosk", "state"],
        )
        columns = (KioskRow.id, KioskRow.last_contact, KioskRow.outbox_depth)
        query = sa.select(*columns, KioskRow.dead_letters, KioskRow.camera).where(
            KioskRow.last_contact.is_not(None), KioskRow.revoked_at.is_(None)
        )
        try:
            with read_session(self.engine) as session:
                rows = list(session.execute(query))
        except sa.exc.SQLAlchemyError:
            DATABASE_ERRORS.inc()
            rows = []
        for kiosk_id, last_contact, depth, dead_letters, state in rows:
            if last_contact is None:
                continue
            contact.add_metric([kiosk_id], last_contact.timestamp())
            outbox.add_metric([kiosk_id], float(depth or 0))
            dead.add_metric([kiosk_id], float(dead_letters or 0))
            camera.add_metric([kiosk_id, str(state)], 1.0)
        yield from (contact, outbox, dead, camera)


def parse_allow(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def allowed(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def metrics_router(engine: Engine, allow: list[str]) -> APIRouter:
    """GET /metrics for the addresses in [backend] metrics_allow; 403 for anyone else."""
    networks = parse_allow(allow)
    heartbeats = CollectorRegistry()
    heartbeats.register(KioskHeartbeats(engine))
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False, response_model=None)
    def metrics(request: Request) -> Response | JSONResponse:
        address = request.client.host if request.client else ""
        if not allowed(address, networks):
            refusal = error_envelope(ErrorCode.forbidden, "metrics are not served to this address")
            return JSONResponse(refusal, status_code=403)
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            counts = generate_latest(registry)
        else:
            counts = generate_latest(REGISTRY)
        return Response(counts + generate_latest(heartbeats), media_type=CONTENT_TYPE_LATEST)

    return router
