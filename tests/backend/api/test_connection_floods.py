"""Idle and half-sent connections, huge headers and log floods (issue 11 item 4), against a
real backend process: its connections and header time are bounded, health and check-ins
from another address keep answering, and a flood of one log line is cut, not written out."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import requests
from support.backend_server import BackendServer, checkin_body

from kiosk.logs import RepeatLimit

PER_ADDRESS = 16
HEADER_SECONDS = 2.0


def half_sent(server: BackendServer, source: str) -> socket.socket:
    """A connection that sends the start of a request and then nothing (slowloris)."""
    sock = socket.create_connection(
        (server.host, server.port), timeout=5, source_address=(source, 0)
    )
    sock.sendall(b"POST /api/v1/checkins HTTP/1.1\r\nHost: kiosk\r\nX-Slow: ")
    return sock


def whole_response(sock: socket.socket) -> bytes:
    """One HTTP response read off the socket: head, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_sent_requests_cannot_hold_the_backend(tmp_path: Path) -> None:
    limits = {
        "max_connections": 200,
        "max_connections_per_address": PER_ADDRESS,
        "header_timeout_seconds": HEADER_SECONDS,
    }
    with BackendServer(tmp_path, backend=limits) as server:
        flood = [half_sent(server, "127.0.0.2") for _ in range(PER_ADDRESS + 40)]
        try:
            # Beyond the per-address bound the server closes them at once.
            refused = sum(closed_by_server(s, 0.5) for s in flood[PER_ADDRESS:])
            assert refused == 40
            # Another address is served while the flood holds its connections open.
            started = time.monotonic()
            health = requests.get(server.url("health"), timeout=5)
            assert health.status_code == 200
            session = requests.Session()
            answer = session.post(
                server.url("checkins"), json=checkin_body("19000123"), headers=server.headers,
                timeout=5,
            )  # fmt: skip
            assert answer.status_code == 201 and time.monotonic() - started < 3
            # The held ones are closed once their headers are overdue.
            assert all(closed_by_server(s, HEADER_SECONDS + 3) for s in flood[:PER_ADDRESS])
        finally:
            for sock in flood:
                sock.close()
        # A keep-alive connection whose next request drips its headers is closed too.
        sock = socket.create_connection((server.host, server.port), timeout=5)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: kiosk\r\n\r\n")
            assert whole_response(sock).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: ki")
            started = time.monotonic()
            assert closed_by_server(sock, HEADER_SECONDS + 3)
            assert time.monotonic() - started >= HEADER_SECONDS - 0.5
        finally:
            sock.close()
        logs = server.log_tail(400)
        assert logs.count("connection from 127.0.0.2 refused") == 40  # under the repeat limit
        assert "headers from 127.0.0.2 not complete in 2 s: closed" in logs


def test_headers_over_the_limit_are_refused(tmp_path: Path) -> None:
    with BackendServer(tmp_path) as server:
        sock = socket.create_connection((server.host, server.port), timeout=5)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: kiosk\r\n")
            for _ in range(40):
                sock.sendall(b"X-Padding: " + b"a" * 1000 + b"\r\n")
            assert closed_by_server(sock, 5)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: as good
        finally:
            sock.close()
        assert requests.get(server.url("health"), timeout=5).status_code == 200
        assert "headers over 32768 bytes" in server.log_tail(50)


def test_a_flood_of_one_line_is_cut_and_counted() -> None:
    now = [0.0]
    limit = RepeatLimit(per_minute=5, clock=lambda: now[0])
    logger = logging.Logger("kiosk.backend")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    for handler in (Keep(), Keep()):  # two handlers (file and stderr), one verdict each record
        handler.addFilter(limit)
        logger.addHandler(handler)
    for n in range(100):
        logger.error("internal error on %s %s: %s", "POST", f"/api/v1/x{n}", "boom")
    assert len(lines) == 2 * 5
    assert "more like it are counted, not logged" in lines[-1]
    for n in range(3):  # other kinds are not held up by the flood
        logger.info("%s %s %s %.1fms caller=%s", "GET", "/api/v1/health", 200, n * 1.0, "-")
        logger.info("%s %s %s %.1fms caller=%s", "POST", "/api/v1/checkins", 201, 3.0, f"k{n}")
    assert len(lines) == 2 * 11
    now[0] = 61.0
    logger.error("internal error on %s %s: %s", "POST", "/api/v1/y", "boom")
    assert lines[-1].startswith("(95 more like this were not logged) internal error on POST")


def test_a_dripping_body_is_refused_in_time(tmp_path: Path) -> None:
    with BackendServer(tmp_path, backend={"header_timeout_seconds": 1.0}) as server:
        sock = socket.create_connection((server.host, server.port), timeout=10)
        try:
            sock.sendall(
                b"POST /api/v1/checkins HTTP/1.1\r\nHost: kiosk\r\n"
                + f"Authorization: Bearer {server.token}\r\n".encode()
                + b'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"card": '
            )
            started = time.monotonic()
            answer = whole_response(sock)
            took = time.monotonic() - started
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'"request_timeout"' in answer
        assert 2.5 <= took <= 6.0  # three times the header timeout
        assert "not complete in 3 s: refused" in server.log_tail(50)
