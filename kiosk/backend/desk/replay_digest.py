"""What makes two requests 'the same body' for a client_ref replay (a digest of the body)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from kiosk.protocol import VisitRequest


def request_digest(request: VisitRequest, member_id: str) -> str:
    """What makes two requests 'the same body' for a client_ref replay."""
    canonical: dict[str, Any] = {
        "member_id": member_id,
        "answers": request.answers,
        "want_internet": request.want_internet,
        "kiosk_id": request.kiosk_id,
        "occurred_at": request.occurred_at.astimezone(dt.UTC).isoformat(),
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
