"""The backend client against real HTTP servers on loopback, one fault each.

Every failure must come out as BackendUnreachable or BackendRejected with a clear message,
within the configured timeouts, and never as a requests/pydantic exception.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from kiosk import protocol
from kiosk.config import ConfigError
from kiosk.terminal.client import (
    MAX_RETRY_AFTER,
    BackendClient,
    BackendRejected,
    BackendUnreachable,
    RateLimited,
    parse_retry_after,
)

if TYPE_CHECKING:  # the fixtures' types, from this directory's conftest.py
    from conftest import FaultHTTPServer, Handler, TLSFiles

MakeClient = Callable[..., BackendClient]

MEMBER = {"id": "19000101", "name": "Rahmat Hidayat", "status": "active", "expires_on": None}
LOOKUP_OK = {"member": MEMBER, "has_credential": False, "last_answers": {"purpose": "membaca"}}
NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def checkin_request() -> protocol.CheckinRequest:
    return protocol.CheckinRequest(
        client_ref=uuid.uuid4(),
        card="A19000101B",
        answers={"purpose": "membaca"},
        kiosk_id="kiosk-test",
        occurred_at=NOW,
    )


def visit_answer(request: protocol.VisitRequest) -> dict[str, object]:
    return {
        "visit": {
            "client_ref": str(request.client_ref),
            "member_id": "19000101",
            "kiosk_id": request.kiosk_id,
            "occurred_at": request.occurred_at.isoformat(),
            "received_at": request.occurred_at.isoformat(),
            "answers": request.answers,
            "want_internet": request.want_internet,
        },
        "credential": None,
    }


def json_answer(status: int, data: object, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return lambda h: h.send_json(status, data, headers)


def raw_answer(status: int, body: bytes, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    return lambda h: h.send_raw(status, body, content_type=content_type)


def envelope(code: str, message: str = "no") -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


def hang_up(handler: Handler) -> None:
    """Read the request, then close the connection without a word."""
    handler.close_connection = True
    handler.wfile.flush()
    handler.connection.shutdown(2)


def never_answer(handler: Handler) -> None:
    handler.server.released.wait(30)


# ---------------------------------------------------------------- happy path


def test_lookup_sends_the_card_with_the_kiosks_token(
    fault_server: FaultHTTPServer, client_for: MakeClient, kiosk_token: str
) -> None:
    fault_server.on("POST", "/members/lookup", json_answer(200, LOOKUP_OK))
    with client_for(fault_server.url) as client:
        answer = client.lookup("A19000101B")
    assert answer.member.name == "Rahmat Hidayat"
    assert answer.last_answers == {"purpose": "membaca"}
    (call,) = fault_server.calls("POST", "/members/lookup")
    assert call.json() == {"card": "A19000101B", "entry": "scan"}
    assert call.headers["Authorization"] == f"Bearer {kiosk_token}"


def test_a_typed_lookup_says_so(fault_server: FaultHTTPServer, client_for: MakeClient) -> None:
    fault_server.on("POST", "/members/lookup", json_answer(200, LOOKUP_OK))
    with client_for(fault_server.url) as client:
        client.lookup("19000101", entry="typed")
    (call,) = fault_server.calls("POST", "/members/lookup")
    assert call.json() == {"card": "19000101", "entry": "typed"}


def test_checkin_sends_the_contract_body_with_an_aware_time(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    request = checkin_request()
    fault_server.on("POST", "/checkins", json_answer(201, visit_answer(request)))
    with client_for(fault_server.url) as client:
        answer = client.checkin(request)
    assert answer.visit.client_ref == request.client_ref
    (call,) = fault_server.calls("POST", "/checkins")
    assert call.json()["client_ref"] == str(request.client_ref)
    assert call.json()["occurred_at"] == "2026-11-28T09:30:00+07:00"
    assert call.json()["want_internet"] is True


def test_health_reports_version_and_latency(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "GET",
        "/health",
        json_answer(
            200,
            {
                "status": "ok",
                "version": "0.1.0",
                "database": "ok",
                "provisioning": "local",
                "time": NOW.isoformat(),
            },
        ),
    )
    with client_for(fault_server.url) as client:
        health = client.health()
    assert health.ok and health.version == "0.1.0" and health.latency_ms > 0
    assert "provisioning local" in health.detail


def test_stats_today_parses_the_days_figures(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    figures = {"date": "2026-11-28", "visits": 3, "credentials_issued": 2, "credentials_reused": 1}
    fault_server.on("GET", "/stats/today", json_answer(200, figures))
    with client_for(fault_server.url) as client:
        stats = client.stats_today()
    assert (stats.visits, stats.credentials_issued, stats.credentials_reused) == (3, 2, 1)


# ------------------------------------------------------------------ rejections


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "member_not_found"),
        (403, "member_blocked"),
        (403, "member_expired"),
        (401, "unauthorized"),
        (409, "client_ref_conflict"),
        (422, "invalid_request"),
        (503, "provisioning_unavailable"),
    ],
)
def test_an_error_envelope_becomes_a_rejection_with_its_code(
    fault_server: FaultHTTPServer, status: int, code: str, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/checkins", json_answer(status, envelope(code, "said the backend")))
    with client_for(fault_server.url) as client, pytest.raises(BackendRejected) as caught:
        client.checkin(checkin_request())
    assert not isinstance(caught.value, BackendUnreachable | RateLimited)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message == "said the backend"
    assert len(fault_server.calls("POST", "/checkins")) == 1, "a rejection is never retried"


def test_429_is_rate_limited_with_retry_after_seconds(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "POST", "/visits", json_answer(429, envelope("rate_limited"), {"Retry-After": "30"})
    )
    with client_for(fault_server.url) as client, pytest.raises(RateLimited) as caught:
        client.send_visit(checkin_request())
    assert caught.value.retry_after == 30.0
    assert caught.value.status == 429 and caught.value.code == "rate_limited"
    assert len(fault_server.calls("POST", "/visits")) == 1, "never retried before Retry-After"


def test_a_short_retry_after_is_waited_out_once(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on(
        "POST",
        "/members/lookup",
        json_answer(429, envelope("rate_limited"), {"Retry-After": "0"}),
        json_answer(200, LOOKUP_OK),
    )
    with client_for(fault_server.url) as client:
        assert client.lookup("19000101").member.id == "19000101"
    assert len(fault_server.calls("POST", "/members/lookup")) == 2


def test_retry_after_as_an_http_date_is_understood() -> None:
    in_a_minute = time.time() + 60
    header = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(in_a_minute))
    assert 58 <= parse_retry_after(header) <= 61
    assert parse_retry_after(None) == 1.0
    assert parse_retry_after("soon") == 1.0


# ------------------------------------------------------------------- faults


def test_connection_refused_is_unreachable(refused_url: str, client_for: MakeClient) -> None:
    with client_for(refused_url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.code == "unreachable"
    assert "refused" in caught.value.message.lower()


def test_a_server_that_accepts_and_never_replies_times_out(
    silent_socket: str, client_for: MakeClient
) -> None:
    started = time.monotonic()
    with client_for(silent_socket, read_timeout=0.4) as client:
        with pytest.raises(BackendUnreachable) as caught:
            client.checkin(checkin_request())
    elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert "0.4 s" in caught.value.message
    assert elapsed < 3.0, "a check-in is not read-retried after a timeout"


def test_a_slow_answer_beyond_the_read_timeout_is_unreachable(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/checkins", never_answer)
    with client_for(fault_server.url, read_timeout=0.3) as client:
        with pytest.raises(BackendUnreachable) as caught:
            client.checkin(checkin_request())
    assert caught.value.code == "timeout"


def test_an_answer_trickled_byte_by_byte_is_cut_at_the_deadline(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    def trickle(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        # Each byte comes well inside the read timeout, the whole never does.
        while not handler.server.released.wait(0.1):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    fault_server.on("GET", "/stats/today", trickle)
    started = time.monotonic()
    with client_for(fault_server.url, connect_timeout=0.2, read_timeout=0.5) as client:
        with pytest.raises(BackendUnreachable) as caught:
            client.stats_today()
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"<html>Gateway login</html>", b'{"member": {"id": 1}}', b"[]"],
)
def test_a_malformed_answer_is_unreachable_with_a_clear_message(
    fault_server: FaultHTTPServer, body: bytes, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/members/lookup", raw_answer(200, body))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.code == "malformed_answer"
    assert "/members/lookup" in caught.value.message


def test_an_enormous_answer_is_refused(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/members/lookup", raw_answer(200, b" " * (2 * 1024 * 1024)))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.message == "answer too large"


def test_an_answer_cut_short_is_unreachable(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    def cut(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "500")
        handler.end_headers()
        handler.wfile.write(b'{"member": ')
        handler.wfile.flush()
        hang_up(handler)

    fault_server.on("POST", "/members/lookup", cut)
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.code == "unreachable"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_without_our_envelope_is_unreachable(
    fault_server: FaultHTTPServer, status: int, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/checkins", raw_answer(status, b"<h1>oops</h1>", "text/html"))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.checkin(checkin_request())
    assert caught.value.status == status and caught.value.code == "server_error"
    assert len(fault_server.calls("POST", "/checkins")) == 1, "a check-in is not status-retried"


def test_a_500_with_an_internal_error_envelope_is_unreachable(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/visits", json_answer(500, envelope("internal_error", "boom")))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.send_visit(checkin_request())
    assert caught.value.status == 500 and "boom" in caught.value.message


def test_a_4xx_from_something_that_is_not_our_backend_is_unreachable(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/members/lookup", raw_answer(404, b"Not Found", "text/plain"))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.status == 404


# ------------------------------------------------------------------ retries


def test_lookup_is_retried_once_after_a_dropped_connection(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/members/lookup", hang_up, json_answer(200, LOOKUP_OK))
    with client_for(fault_server.url) as client:
        assert client.lookup("19000101").member.id == "19000101"
    assert len(fault_server.calls("POST", "/members/lookup")) == 2


def test_checkin_is_not_resent_after_a_dropped_connection(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    request = checkin_request()
    fault_server.on("POST", "/checkins", hang_up, json_answer(201, visit_answer(request)))
    with client_for(fault_server.url) as client, pytest.raises(BackendUnreachable):
        client.checkin(request)
    assert len(fault_server.calls("POST", "/checkins")) == 1


def test_stats_are_retried_after_a_bad_gateway(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    figures = {"date": "2026-11-28", "visits": 1, "credentials_issued": 0, "credentials_reused": 0}
    fault_server.on(
        "GET",
        "/stats/today",
        raw_answer(502, b"bad gateway", "text/plain"),
        json_answer(200, figures),
    )
    with client_for(fault_server.url) as client:
        assert client.stats_today().visits == 1
    assert len(fault_server.calls("GET", "/stats/today")) == 2


def test_health_is_a_probe_and_is_not_retried(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("GET", "/health", hang_up)
    with client_for(fault_server.url) as client:
        health = client.health()
    assert not health.ok and health.version is None
    assert len(fault_server.calls("GET", "/health")) == 1


def test_health_never_raises(
    refused_url: str, fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("GET", "/health", raw_answer(200, b"garbage"))
    for url in (refused_url, fault_server.url):
        with client_for(url) as client:
            health = client.health()
        assert not health.ok and health.detail


def test_one_client_serves_worker_threads_at_once(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    fault_server.on("POST", "/members/lookup", json_answer(200, LOOKUP_OK))
    errors: list[BaseException] = []
    with client_for(fault_server.url) as client:

        def worker() -> None:
            try:
                for _ in range(10):
                    client.lookup("19000101")
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors
    assert len(fault_server.calls("POST", "/members/lookup")) == 40


# ---------------------------------------------------------------------- TLS


def test_tls_with_the_librarys_own_ca_is_trusted(
    tls_server: FaultHTTPServer, tls_files: TLSFiles, client_for: MakeClient
) -> None:
    tls_server.on("POST", "/members/lookup", json_answer(200, LOOKUP_OK))
    with client_for(tls_server.url, ca_file=str(tls_files.ca)) as client:
        assert client.lookup("19000101").member.id == "19000101"


def test_tls_verification_is_on_by_default(
    tls_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    tls_server.on("POST", "/members/lookup", json_answer(200, LOOKUP_OK))
    with client_for(tls_server.url) as client, pytest.raises(BackendUnreachable) as caught:
        client.lookup("19000101")
    assert caught.value.code == "tls_error"
    assert "certificate" in caught.value.message.lower()
    assert not tls_server.calls("POST", "/members/lookup"), "nothing sent to an unverified server"


def test_a_missing_ca_file_is_a_configuration_error(client_for: MakeClient) -> None:
    with pytest.raises(ConfigError, match="ca_file"):
        client_for("https://127.0.0.1:1", ca_file="/nonexistent/ca.pem")


# ------------------------------------------------------------------- secrets


def test_no_token_in_any_log_line(
    fault_server: FaultHTTPServer,
    refused_url: str,
    caplog: pytest.LogCaptureFixture,
    client_for: MakeClient,
    kiosk_token: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    fault_server.on("POST", "/checkins", json_answer(401, envelope("unauthorized", "bad token")))
    with client_for(fault_server.url) as client, pytest.raises(BackendRejected):
        client.checkin(checkin_request())
    with client_for(refused_url) as client, pytest.raises(BackendUnreachable):
        client.checkin(checkin_request())
    assert caplog.records, "failures are logged"
    assert kiosk_token not in caplog.text
    assert "A19000101B" not in caplog.text, "no member card in the logs"


def test_an_absurd_retry_after_pauses_at_most_five_minutes(
    fault_server: FaultHTTPServer, client_for: MakeClient
) -> None:
    """Issue 11, item 11: `Retry-After: 99999999999` once paused the outbox for 3,171 years."""
    far = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 10**9))
    for header in ("99999999999", far):
        fault_server.on(
            "POST",
            "/members/lookup",
            json_answer(429, envelope("rate_limited"), {"Retry-After": header}),
        )
        with client_for(fault_server.url) as client, pytest.raises(RateLimited) as caught:
            client.lookup("19000101")
        assert caught.value.retry_after == MAX_RETRY_AFTER == 300.0
