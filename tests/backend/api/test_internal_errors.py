"""An unexpected failure inside the backend answers `internal_error`, never a stack trace.

Driven in-process through the ASGI interface (no HTTP client library needed), with a
provisioner that breaks in a way nobody planned for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from kiosk.backend.app import create_app
from kiosk.backend.db import create_db_engine, migrate, write_session
from kiosk.backend.library.members import MemberRecord, import_members
from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.local import LocalProvisioner
from kiosk.config import Settings
from kiosk.protocol import MemberStatus

TOKEN = "internal-error-token-01"


class ExplodingProvisioner(LocalProvisioner):
    name = "exploding"

    def issue(self, credential: NetworkCredential) -> None:
        raise RuntimeError("secret-internal-detail at line 42")


async def call(app: Any, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    messages = [{"type": "http.request", "body": payload, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(content)


def test_unexpected_failure_is_internal_error_without_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    with write_session(engine) as session:
        member = MemberRecord("19000123", "Siti Aminah", MemberStatus.active, None, None)
        import_members(session, [member], replace=False, now=dt.datetime.now(dt.UTC))
    engine.dispose()
    settings = Settings().with_overrides(
        cards={"pattern": r"(?P<id>19\d{6})"},
        backend={"database_url": url, "api_tokens": [TOKEN]},
    )
    app = create_app(settings, run_migrations=False, provisioner=ExplodingProvisioner())
    body = {
        "client_ref": str(uuid.uuid4()),
        "card": "19000123",
        "answers": {},
        "want_internet": True,
        "kiosk_id": "kiosk-1",
        "occurred_at": "2026-11-28T09:30:00+07:00",
    }
    with caplog.at_level(logging.INFO):
        status, answer = asyncio.run(call(app, "/api/v1/checkins", body))
    assert status == 500
    assert answer == {"error": {"code": "internal_error", "message": "internal error"}}
    # The operator's log has one line saying what broke.
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)
    # And the broken check-in left nothing behind: the same client_ref is still free.
    app_ok = create_app(settings, run_migrations=False, provisioner=LocalProvisioner())
    status, answer = asyncio.run(call(app_ok, "/api/v1/checkins", body))
    assert status == 201
    assert answer["credential"]["reused"] is False
