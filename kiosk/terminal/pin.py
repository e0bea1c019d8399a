"""The staff PIN: salted scrypt hashes, constant-time checks, a lockout that survives a restart."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.config import MaintenanceSettings

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
SCHEME = "scrypt"
# scrypt cost: n=2**14, r=8 uses 16 MiB and ~80 ms here; plenty for a 4-8 digit PIN
# that is also protected by the lockout.
DEFAULT_N = 16384
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
_ENCODED = re.compile(
    r"scrypt\$n=(?P<n>[0-9]+),r=(?P<r>[0-9]+),p=(?P<p>[0-9]+)\$(?P<salt>[A-Za-z0-9+/=]+)\$(?P<hash>[A-Za-z0-9+/=]+)"
)


class PinFormatError(ValueError):
    """The PIN is not 4-8 digits."""


class PinHashError(ValueError):
    """A stored PIN hash is not in the "scrypt$n=..,r=..,p=..$salt$hash" form."""


def check_pin_format(pin: str) -> str:
    """Return the PIN if it is 4-8 ASCII digits, else raise PinFormatError."""
    if not PIN_PATTERN.fullmatch(pin):
        raise PinFormatError("the PIN must be 4 to 8 digits (0-9)")
    return pin


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem above the 32 MiB OpenSSL default leaves room for n up to 2**15 at r=8.
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=128 * 1024 * 1024
    )


def hash_pin(pin: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """A salted scrypt hash of a valid PIN, encoded as "scrypt$n=16384,r=8,p=1$<salt>$<hash>"."""
    check_pin_format(pin)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, n, r, p, HASH_BYTES)
    salt_b64 = base64.b64encode(salt).decode("ascii")
    hash_b64 = base64.b64encode(digest).decode("ascii")
    return f"{SCHEME}$n={n},r={r},p={p}${salt_b64}${hash_b64}"


def _parse(pin_hash: str) -> tuple[int, int, int, bytes, bytes]:
    match = _ENCODED.fullmatch(pin_hash.strip())
    if match is None:
        raise PinHashError("not a scrypt PIN hash (set one with `kiosk set-pin`)")
    n, r, p = int(match["n"]), int(match["r"]), int(match["p"])
    # Bounds keep a tampered config from making a check take minutes or gigabytes.
    if n < 2 or n & (n - 1) or n > 2**20 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise PinHashError("scrypt parameters out of range")
    try:
        salt = base64.b64decode(match["salt"], validate=True)
        digest = base64.b64decode(match["hash"], validate=True)
    except binascii.Error as exc:
        raise PinHashError(f"bad base64 in PIN hash: {exc}") from None
    if not salt or not digest:
        raise PinHashError("empty salt or hash")
    return n, r, p, salt, digest


def is_pin_hash(pin_hash: str) -> bool:
    """True when the text is a well-formed PIN hash (for `kiosk doctor`)."""
    try:
        _parse(pin_hash)
    except PinHashError:
        return False
    return True


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Whether the PIN matches the hash; compared in constant time. A malformed PIN is False,
    a malformed hash raises PinHashError (that is a configuration problem, not a wrong PIN)."""
    n, r, p, salt, expected = _parse(pin_hash)
    if not PIN_PATTERN.fullmatch(pin):
        return False
    return hmac.compare_digest(_scrypt(pin, salt, n, r, p, len(expected)), expected)


@dataclass(frozen=True)
class PinResult:
    ok: bool
    locked_until: float | None
    attempts_left: int


class PinLock:
    """Counts wrong PINs in a JSON file; `max_attempts` wrong ones in a row lock the pad for
    `lockout_seconds`. State is kept on disk so pulling the plug does not reset the count."""

    def __init__(
        self, path: Path | str, *, max_attempts: int = 5, lockout_seconds: float = 300.0
    ) -> None:
        self.path = Path(path)
        self.max_attempts = max_attempts
        self.lockout_seconds = lockout_seconds

    def _load(self) -> tuple[int, float | None]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            failures = int(data.get("failures", 0))
            until = data.get("locked_until")
            return max(failures, 0), (float(until) if until is not None else None)
        except FileNotFoundError:
            return 0, None
        except (OSError, ValueError, TypeError, AttributeError):
            # A damaged state file must not open the pad: treat it as a fresh lockout.
            return self.max_attempts, None

    def _save(self, failures: int, locked_until: float | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"failures": failures, "locked_until": locked_until})
        fd, tmp = tempfile.mkstemp(prefix=".pin-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def locked_until(self, now: float) -> float | None:
        """The time the lockout ends, or None when the pad is open."""
        failures, until = self._load()
        if until is not None and now < until:
            return until
        if until is None and failures >= self.max_attempts:
            # Reached by a damaged state file: lock from now.
            until = now + self.lockout_seconds
            self._save(failures, until)
            return until
        return None

    def attempt(self, pin: str, pin_hash: str, now: float) -> PinResult:
        """Check one PIN entry. While locked, the PIN is not even checked."""
        until = self.locked_until(now)
        if until is not None:
            return PinResult(ok=False, locked_until=until, attempts_left=0)
        failures, previous_until = self._load()
        if previous_until is not None:
            # A lockout that has run out starts a fresh count.
            failures = 0
        if verify_pin(pin, pin_hash):
            self._save(0, None)
            return PinResult(ok=True, locked_until=None, attempts_left=self.max_attempts)
        failures += 1
        if failures >= self.max_attempts:
            until = now + self.lockout_seconds
            self._save(failures, until)
            return PinResult(ok=False, locked_until=until, attempts_left=0)
        self._save(failures, None)
        return PinResult(ok=False, locked_until=None, attempts_left=self.max_attempts - failures)

    @classmethod
    def from_settings(cls, path: Path | str, maintenance: MaintenanceSettings) -> PinLock:
        """A lock with `[maintenance] max_attempts` and `lockout_minutes`."""
        return cls(
            path,
            max_attempts=maintenance.max_attempts,
            lockout_seconds=maintenance.lockout_minutes * 60.0,
        )
