"""Per-kiosk bearer tokens and the per-token rate limit."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


class Unauthorized(Exception):
    """No bearer token, or one that is not in [backend] api_tokens."""


class RateLimited(Exception):
    """This token has used up its requests for now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


def token_id(token: str) -> str:
    """A short, non-secret name for a token in logs."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


class RegisteredLookup(Protocol):
    def kiosk_for(self, token: str) -> str | None: ...


class TokenCheck:
    """Accepts the configured tokens (compared in constant time) and the tokens of kiosks
    registered in the console (stored hashed)."""

    def __init__(self, tokens: Sequence[str], registered: RegisteredLookup | None = None) -> None:
        self._tokens = [token.encode("utf-8") for token in tokens]
        self._registered = registered

    def verify(self, authorization: str | None) -> str:
        """The token of a valid `Authorization: Bearer ...` header, or Unauthorized."""
        if not authorization:
            raise Unauthorized("missing Authorization: Bearer <token> header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("expected Authorization: Bearer <token>")
        candidate = token.strip().encode("utf-8")
        # Compare with every token so the time taken says nothing about which one is near.
        matches = [secrets.compare_digest(candidate, known) for known in self._tokens]
        if not any(matches):
            if self._registered is None or self._registered.kiosk_for(token.strip()) is None:
                raise Unauthorized("unknown token")
        return token.strip()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per API token: `per_minute` requests a minute, bursts up to that.

    Counts live in this process: with several uvicorn workers each has its own bucket.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def waiting(self, key: str) -> int | None:
        """The seconds until `key` may spend again, or None when it may now (spends nothing)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return None
            tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            if tokens >= 1.0:
                return None
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def take(self, key: str) -> None:
        """Spend one request of `key`, or raise RateLimited with the seconds to wait."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = (1.0 - bucket.tokens) / self.rate
        raise RateLimited(max(1, math.ceil(wait)))
