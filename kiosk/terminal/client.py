"""The kiosk's HTTP client for the credential backend: timeouts, safe retries, clear errors."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import requests
import urllib3
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk import protocol
from kiosk.config import ConfigError, KioskSettings

log = logging.getLogger("kiosk.client")

Model = TypeVar("Model", bound=BaseModel)

# An answer of ours is a few hundred bytes; anything this big is not the backend talking.
MAX_ANSWER_BYTES = 1024 * 1024
# A 429 whose Retry-After is this short is waited out once, so a patron barely notices.
RATE_LIMIT_WAIT = 1.0
# No Retry-After pauses the outbox longer than this: a hostile or broken answer of
# "99999999999" would otherwise stop sending for millennia (issue 11, item 11).
MAX_RETRY_AFTER = 300.0


class BackendError(Exception):
    """A call to the backend did not give the answer asked for."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class BackendUnreachable(BackendError):
    """No usable answer: connection refused or reset, timeout, a 5xx (other than 503
    provisioning_unavailable), or an answer that is not the contract's JSON."""


class BackendRejected(BackendError):
    """The backend answered with its error envelope (a 4xx, or 503 provisioning_unavailable);
    `code` is the ErrorCode value (kept as text so a newer backend's codes still arrive)."""


class RateLimited(BackendRejected):
    """429: too many calls for this kiosk's token; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(protocol.ErrorCode.rate_limited.value, message, 429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Health:
    ok: bool
    latency_ms: float
    version: str | None
    detail: str
    # [members] source slims/inlislite: 'slims: ok' or why the local copy serves (None: CSV).
    library: str | None = None
    writeback_waiting: int | None = None
    writeback_failed: int | None = None


def _retry(
    *,
    connect: int,
    read: int,
    status: int,
    methods: frozenset[str],
) -> Retry:
    # Retry-After is handled by us (RateLimited), never slept on blindly inside urllib3;
    # statuses are judged by us too (raise_on_status=False hands the last answer back).
    return Retry(
        total=connect + read + status,
        connect=connect,
        read=read,
        status=status,
        other=0,
        redirect=0,
        allowed_methods=methods,
        status_forcelist=frozenset({502, 504}) if status else None,
        backoff_factor=0.25,
        backoff_jitter=0.2,
        backoff_max=2.0,
        respect_retry_after_header=False,
        raise_on_status=False,
        raise_on_redirect=False,
    )


# Health is a probe: it must report "down" now, not after retries. Reads (stats, lookup)
# may be repeated after a dropped connection or a gateway error. Check-ins and visits are
# idempotent by client_ref, but a read retry would double a patron's wait after a slow
# answer (the outbox takes over instead), so they are retried only when the request never
# left (connect errors). One connect retry keeps the worst case (2 x connect_timeout) inside
# the flow's lookup timeout.
PROBE_RETRY = Retry(total=0, raise_on_status=False, respect_retry_after_header=False)
READ_RETRY = _retry(connect=1, read=1, status=1, methods=frozenset({"GET", "POST"}))
# (urllib3 reads an empty method set as "any verb": GET alone keeps POSTs out.)
WRITE_RETRY = _retry(connect=1, read=0, status=0, methods=frozenset({"GET"}))


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), at most
    MAX_RETRY_AFTER; default if absent or unreadable."""
    if value is None:
        return default
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return default
    return min(max(0.0, email.utils.mktime_tz(parsed) - time.time()), MAX_RETRY_AFTER)


class BackendClient:
    """One requests.Session against `[kiosk] backend_url`, with the kiosk's bearer token.

    Thread-safe enough for the UI's worker threads and the outbox sender to share: the
    session keeps no cookies and urllib3's connection pools are thread-safe.
    """

    def __init__(
        self, settings: KioskSettings, *, rate_limit_wait: float = RATE_LIMIT_WAIT
    ) -> None:
        self.rate_limit_wait = rate_limit_wait
        # Called with the token a 401 refused (an enrolled kiosk's revoked token).
        self.on_unauthorized: Callable[[str], None] | None = None
        self.use(settings)

    def use(self, settings: KioskSettings) -> None:
        """Talk to `settings`' backend with its token from now on (a new session)."""
        if settings.ca_file and not Path(settings.ca_file).is_file():
            raise ConfigError(
                f"kiosk.ca_file = {settings.ca_file!r}: no such file (a PEM CA bundle)"
            )
        base_url = settings.backend_url.rstrip("/") + protocol.API_PREFIX
        session = requests.Session()
        session.headers.update(
            {
                "Accept": "application/json",
                "User-Agent": f"kiosk/{_version()} ({settings.kiosk_id})",
            }
        )
        if settings.api_token:
            session.headers["Authorization"] = f"Bearer {settings.api_token}"
        session.verify = settings.ca_file or True
        # A proxy from the environment must not see the token or member numbers.
        session.trust_env = False
        session.mount(base_url, HTTPAdapter(max_retries=WRITE_RETRY))
        session.mount(f"{base_url}/health", HTTPAdapter(max_retries=PROBE_RETRY))
        read = HTTPAdapter(max_retries=READ_RETRY)
        session.mount(f"{base_url}/members/lookup", read)
        session.mount(f"{base_url}/stats", read)
        # The old session is left to the calls still using it (other threads).
        self.token = settings.api_token
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.base_url, self.session = base_url, session

    # ------------------------------------------------------------------ calls

    def health(self) -> Health:
        """Whether the backend answers its health check, and how fast. Never raises."""
        started = time.monotonic()
        try:
            answer = self._call("GET", "/health", None, protocol.HealthResponse)
        except BackendError as exc:
            latency = (time.monotonic() - started) * 1000
            return Health(ok=False, latency_ms=latency, version=None, detail=exc.message)
        except Exception as exc:  # a probe must never take the caller down
            latency = (time.monotonic() - started) * 1000
            log.exception("health check failed unexpectedly")
            return Health(ok=False, latency_ms=latency, version=None, detail=str(exc))
        latency = (time.monotonic() - started) * 1000
        # The library's database being down is reported on its own line, not as the backend.
        ok = answer.status == "ok" or (
            answer.status == "degraded"
            and answer.provisioning.endswith(": ok")
            and answer.library is not None
        )
        detail = f"database {answer.database}, provisioning {answer.provisioning}"
        return Health(
            ok=ok,
            latency_ms=latency,
            version=answer.version,
            detail=detail,
            library=answer.library,
            writeback_waiting=answer.writeback_waiting,
            writeback_failed=answer.writeback_failed,
        )

    def lookup(self, card: str, entry: protocol.Entry = "scan") -> protocol.LookupResponse:
        body = protocol.LookupRequest(card=card, entry=entry)
        return self._call("POST", "/members/lookup", body, protocol.LookupResponse)

    def checkin(self, request: protocol.CheckinRequest) -> protocol.CheckinResponse:
        return self._call("POST", "/checkins", request, protocol.CheckinResponse)

    def send_visit(self, request: protocol.VisitRequest) -> protocol.VisitResponse:
        return self._call("POST", "/visits", request, protocol.VisitResponse)

    def send_guest_visit(self, request: protocol.GuestVisitRequest) -> protocol.GuestVisitResponse:
        return self._call("POST", "/guest-visits", request, protocol.GuestVisitResponse)

    def send_survey(self, request: protocol.SatisfactionRequest) -> protocol.SatisfactionResponse:
        return self._call("POST", "/satisfaction", request, protocol.SatisfactionResponse)

    def stats_today(self) -> protocol.StatsToday:
        return self._call("GET", "/stats/today", None, protocol.StatsToday)

    def enroll(self, request: protocol.EnrollRequest) -> protocol.EnrollResponse:
        """POST /kiosks/enroll: a one-time code for this kiosk's token (no token needed)."""
        return self._call("POST", "/kiosks/enroll", request, protocol.EnrollResponse)

    def heartbeat(self, beat: protocol.HeartbeatRequest) -> protocol.HeartbeatResponse:
        return self._call("POST", "/kiosks/heartbeat", beat, protocol.HeartbeatResponse)

    def kiosk_settings(
        self, kiosk_id: str, etags: list[str]
    ) -> tuple[protocol.KioskSettingsResponse, str] | None:
        """The settings this kiosk runs with and their ETag; None (304) while the copy with
        one of `etags` is current."""
        path = f"/kiosks/{kiosk_id}/settings"
        extra = {"If-None-Match": ", ".join(etags)} if etags else None
        status, headers, raw = self._exchange("GET", path, None, extra)
        if status == 304:
            return None
        if 200 <= status < 300:
            answer = self._parse(path, status, raw, protocol.KioskSettingsResponse)
            return answer, str(headers.get("ETag", ""))
        error = self._error_for(path, status, headers, raw)
        log.warning("backend GET %s answered %s", path, error)
        raise error

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- plumbing

    def _call(self, method: str, path: str, body: BaseModel | None, answer: type[Model]) -> Model:
        try:
            return self._call_once(method, path, body, answer)
        except RateLimited as exc:
            if exc.retry_after > self.rate_limit_wait:
                raise
            time.sleep(exc.retry_after)
            return self._call_once(method, path, body, answer)

    def _call_once(
        self, method: str, path: str, body: BaseModel | None, answer: type[Model]
    ) -> Model:
        started = time.monotonic()
        try:
            status, headers, raw = self._exchange(method, path, body)
        except BackendError as exc:
            log.warning(
                "backend %s %s failed after %.0f ms: %s",
                method,
                path,
                (time.monotonic() - started) * 1000,
                exc,
            )
            raise
        if 200 <= status < 300:
            return self._parse(path, status, raw, answer)
        error = self._error_for(path, status, headers, raw)
        if status == 401 and self.on_unauthorized is not None and self.token:
            self.on_unauthorized(self.token)
        log.warning(
            "backend %s %s answered %s in %.0f ms",
            method,
            path,
            error,
            (time.monotonic() - started) * 1000,
        )
        raise error

    def _exchange(
        self,
        method: str,
        path: str,
        body: BaseModel | None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, bytes]:
        url = f"{self.base_url}{path}"
        data = body.model_dump_json().encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        headers.update(extra_headers or {})
        connect_timeout, read_timeout = self.timeout
        # read_timeout bounds each wait for bytes; the deadline bounds a server that
        # trickles an answer a byte at a time.
        deadline = time.monotonic() + connect_timeout + read_timeout
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise BackendUnreachable("tls_error", f"TLS failed: {_reason(exc)}") from None
        except requests.exceptions.ConnectTimeout:
            raise BackendUnreachable(
                "timeout", f"no connection within {connect_timeout:g} s"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise BackendUnreachable("timeout", f"no answer within {read_timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise BackendUnreachable(
                "unreachable", f"cannot reach backend: {_reason(exc)}"
            ) from None
        try:
            raw = self._read_body(response, deadline, read_timeout)
            return response.status_code, response.headers, raw
        finally:
            response.close()

    @staticmethod
    def _read_body(response: requests.Response, deadline: float, read_timeout: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise BackendUnreachable(
                        "timeout", f"answer not complete within {read_timeout:g} s"
                    )
                chunk = response.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise BackendUnreachable("malformed_answer", "answer too large")
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                raise BackendUnreachable(
                    "timeout", f"answer not complete within {read_timeout:g} s"
                ) from None
            raise BackendUnreachable("unreachable", f"answer cut short: {_reason(exc)}") from None
        return b"".join(chunks)

    @staticmethod
    def _parse(path: str, status: int, raw: bytes, answer: type[Model]) -> Model:
        try:
            return answer.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise BackendUnreachable(
                "malformed_answer",
                f"{status} answer to {path} is not the contract's ({where}: {first['msg']})",
                status,
            ) from None

    @staticmethod
    def _error_for(path: str, status: int, headers: Any, raw: bytes) -> BackendError:
        envelope = _envelope(raw)
        if status == 429:
            message = envelope[1] if envelope else "too many requests"
            return RateLimited(message, parse_retry_after(headers.get("Retry-After")))
        if envelope is not None:
            code, message = envelope
            if 400 <= status < 500 or (
                status == 503 and code == protocol.ErrorCode.provisioning_unavailable
            ):
                return BackendRejected(code, message, status)
            return BackendUnreachable("server_error", f"backend error {status}: {message}", status)
        if 500 <= status < 600:
            return BackendUnreachable("server_error", f"backend error {status}", status)
        # A 4xx without our envelope is some other server (a proxy, a wrong URL).
        return BackendUnreachable(
            "malformed_answer", f"{status} answer to {path} without an error envelope", status
        )


def _envelope(raw: bytes) -> tuple[str, str] | None:
    try:
        data = json.loads(raw)
        code, message = data["error"]["code"], data["error"]["message"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(code, str) or not isinstance(message, str):
        return None
    return code, message[:300]


def _version() -> str:
    # From the installed metadata rather than kiosk.__version__: under pytest, tests/kiosk/
    # can shadow the package's __init__ (a namespace portion on pythonpath).
    try:
        return metadata.version("kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, in one short line."""
    while True:
        nested = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        reason = getattr(exc, "reason", None)
        inner = reason if isinstance(reason, BaseException) else nested
        if inner is None or inner is exc:
            break
        exc = inner
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
