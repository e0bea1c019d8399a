"""Per-kiosk bearer tokens: checking them, naming them in logs, and the refusals they meet."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Protocol


class Unauthorized(Exception):
    """No bearer token, or one that is not in [backend] api_tokens."""


class WrongKiosk(Exception):
    """A token bound to one kiosk speaking for another kiosk id."""

    def __init__(self, bound: str) -> None:
        super().__init__(f"this token belongs to kiosk {bound!r}: it may not speak for another")
        self.bound = bound


class RateLimited(Exception):
    """This token (or address) has used up its requests for now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


def token_id(token: str) -> str:
    """A short, non-secret name for a token in logs."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


def token_digest(token: str) -> str:
    """The token's full SHA-256: what shared tables key on (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RegisteredLookup(Protocol):
    def kiosk_for(self, token: str) -> str | None: ...


class TokenCheck:
    """Accepts the configured tokens (compared in constant time) and the tokens of kiosks
    registered in the console (stored hashed)."""

    def __init__(
        self,
        tokens: Sequence[str],
        registered: RegisteredLookup | None = None,
        bound: Mapping[str, str] | None = None,
    ) -> None:
        self._tokens = [token.encode("utf-8") for token in tokens]
        self._registered = registered
        # token -> the one kiosk id it may speak for ([backend] api_token_kiosks)
        self._bound = {token: kiosk for kiosk, token in (bound or {}).items()}

    def kiosk_of(self, token: str) -> str | None:
        """The kiosk id an accepted token is bound to: a registered kiosk's always, a
        configured one's if [backend] api_token_kiosks names it; None: any kiosk id."""
        if token.encode("utf-8") in self._tokens:
            return self._bound.get(token)
        return self._registered.kiosk_for(token) if self._registered is not None else None

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
