"""The throttle on runs of unknown member numbers per token: guessing numbers earns 429."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from kiosk.backend.api.auth import RateLimited
from kiosk.backend.api.errors import error_response
from kiosk.backend.api.limits import SharedLimit
from kiosk.protocol import API_PREFIX, ErrorCode

log = logging.getLogger("kiosk.backend")
SPAN_SECONDS = 600.0
# The requests that answer whether a member number exists.
PROBING_PATHS = frozenset(f"{API_PREFIX}/{p}" for p in ("members/lookup", "checkins", "visits"))


class UnknownMemberThrottle:
    """Counts `member_not_found` answers per token digest, shared by every backend process."""

    def __init__(self, limit: SharedLimit) -> None:
        self.limit = limit  # member_not_found answers per token and SPAN_SECONDS

    def paused_for(self, digest: str) -> int:
        """Seconds this token's lookups stay refused (0: not paused)."""
        return self.limit.waiting(digest) or 0

    def refusal_for(self, wait: int | None) -> JSONResponse | None:
        """The 429 for a probing request of a token paused `wait` seconds (None: not)."""
        if wait is None:
            return None
        return error_response(
            429,
            ErrorCode.rate_limited,
            f"too many unknown member numbers from this kiosk; lookups paused for {wait} s",
            {"Retry-After": str(wait)},
        )

    def answered(self, path: str, digest: str, caller: str, status: int) -> None:
        """Count a `member_not_found` (404) answer of a probing request."""
        if status != 404 or path not in PROBING_PATHS:
            return
        try:
            self.limit.take(digest)
            paused = self.limit.waiting(digest)
        except RateLimited as exc:  # two answers raced for the last place
            paused = exc.retry_after
        if paused is not None:  # that was the last one: the next lookups are refused
            log.warning(
                "unknown member numbers limit reached for token %s: lookups paused %d s",
                caller,
                paused,
            )
