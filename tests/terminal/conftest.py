"""Fixtures for the kiosk-side tests: small stdlib HTTP servers on loopback, one fault each.

A FaultServer answers each (method, path) with a scripted behaviour and records what it got,
so tests can count retries and read what the client sent.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.needs import unavailable

from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient

TOKEN = "kiosk-test-token-0123456789"
Behaviour = Callable[["Handler"], None]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Handler(BaseHTTPRequestHandler):
    server: FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        self.server.received.append(Received(self.command, path, dict(self.headers), body))
        self.received_body = body
        behaviours = self.server.routes.get((self.command, path))
        if not behaviours:
            self.send_json(404, {"error": {"code": "not_found", "message": "no such route"}})
            return
        # A list of behaviours plays one per request; the last one repeats.
        behaviour = behaviours.pop(0) if len(behaviours) > 1 else behaviours[0]
        behaviour(self)

    do_GET = _handle
    do_POST = _handle

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.send_raw(status, json.dumps(data).encode(), headers)

    def send_raw(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[tuple[str, str], list[Behaviour]] = {}
        self.received: list[Received] = []
        # Set at teardown so handlers that "never answer" let go of their threads.
        self.released = threading.Event()
        self.scheme = "http"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout) is the point of these tests

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def on(self, method: str, path: str, *behaviours: Behaviour) -> None:
        """Script the answers to `method /api/v1<path>`, one behaviour per request."""
        self.routes[(method, f"/api/v1{path}")] = list(behaviours)

    def calls(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if (r.method, r.path) == (method, f"/api/v1{path}")]


@pytest.fixture
def fault_server() -> Iterator[FaultHTTPServer]:
    server = FaultHTTPServer()
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="fault-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def silent_socket() -> Iterator[str]:
    """A loopback port whose kernel completes the TCP handshake but no program ever reads or
    answers: the "accepts and never replies" backend."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def refused_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def kiosk_settings(url: str, **overrides: Any) -> KioskSettings:
    """Kiosk settings against `url` with short timeouts (loopback answers in milliseconds)."""
    values: dict[str, Any] = {
        "backend_url": url,
        "api_token": TOKEN,
        "kiosk_id": "kiosk-test",
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
    }
    values.update(overrides)
    return KioskSettings(**values)


@pytest.fixture
def kiosk_token() -> str:
    return TOKEN


@pytest.fixture
def client_for() -> Iterator[Callable[..., BackendClient]]:
    """client_for(url, **kiosk_overrides) -> a BackendClient, closed after the test."""
    clients: list[BackendClient] = []

    def make(url: str, **overrides: Any) -> BackendClient:
        client = BackendClient(kiosk_settings(url, **overrides))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@dataclass(frozen=True)
class TLSFiles:
    ca: Path  # the library's own CA, which signed the server certificate
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it (openssl CLI)."""
    if shutil.which("openssl") is None:
        unavailable("openssl command not found")
    d = tmp_path_factory.mktemp("tls")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Perpustakaan Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1",
        cwd=d,
    )  # fmt: skip
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "ext.cnf",
        cwd=d,
    )  # fmt: skip
    return TLSFiles(ca=d / "ca.pem", cert=d / "server.pem", key=d / "server.key")


@pytest.fixture
def tls_server(fault_server: FaultHTTPServer, tls_files: TLSFiles) -> FaultHTTPServer:
    """The fault server speaking HTTPS with a certificate from the library's own CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    fault_server.socket = context.wrap_socket(fault_server.socket, server_side=True)
    fault_server.scheme = "https"
    return fault_server
