"""A stand-in for a MikroTik router's REST API (RouterOS v7) on loopback HTTPS, following the
documented behaviour: basic auth, every value a string, `.id` fields such as "*1", PUT to
create, PATCH /<.id> to set, DELETE /<.id> (204, empty), GET with query filters and
`.proplist`, errors as {"error": <status>, "message": ..., "detail": ...}.

No RouterOS runs here: the kiosk's adapter is contract-tested against this, not a router.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

# What /ip/hotspot/user accepts on create/set (a subset of RouterOS's, enough for a kiosk).
USER_FIELDS = {
    "name",
    "password",
    "profile",
    "limit-uptime",
    "limit-bytes-total",
    "comment",
    "disabled",
    "server",
    "email",
}
# What /ip/hotspot/user/profile accepts on create/set (a subset of RouterOS's).
PROFILE_FIELDS = {
    "name",
    "rate-limit",
    "shared-users",
    "idle-timeout",
    "session-timeout",
    "keepalive-timeout",
    "status-autorefresh",
    "address-pool",
    "address-list",
    "add-mac-cookie",
    "mac-cookie-timeout",
    "transparent-proxy",
    "open-status-page",
    "parent-queue",
    "on-login",
    "on-logout",
}
# RouterOS's defaults for a new hotspot user profile.
PROFILE_DEFAULTS = {
    "idle-timeout": "none",
    "keepalive-timeout": "2m",
    "status-autorefresh": "1m",
    "shared-users": "1",
    "add-mac-cookie": "true",
    "mac-cookie-timeout": "3d",
    "address-list": "",
    "transparent-proxy": "false",
    "open-status-page": "always",
    "default": "false",
}
# rx-rate[/tx-rate] [rx-burst/tx-burst ...]: the first pair is all a kiosk sets.
_RATE = re.compile(r"^$|^\d+[kM]?(/\d+[kM]?)?( .*)?$")
_TIME = re.compile(r"^(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$|^(?:\d+d)?\d+:\d\d:\d\d$")


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A test CA and a certificate it signed for 127.0.0.1/localhost, made with `openssl`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_file = directory / "ca.key", directory / "ca.pem"
    key_file, csr = directory / "router.key", directory / "router.csr"
    cert_file = directory / "router.pem"
    extensions = directory / "router.ext"
    extensions.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        encoding="utf-8",
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = [
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_file, "-days", "2",
         "-subj", "/CN=Kiosk test router CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-new", *ec, "-keyout", key_file, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_file, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert_file, "-days", "2", "-extfile", extensions],
    ]  # fmt: skip
    for command in run:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return TlsFiles(ca_file, cert_file, key_file)


class RouterState:
    """The router's tables, behind one lock (the server answers on several threads)."""

    def __init__(self, profiles: tuple[str, ...]) -> None:
        self.lock = threading.Lock()
        self.profiles: dict[str, dict[str, str]] = {}
        self.users: dict[str, dict[str, str]] = {}
        self.active: dict[str, dict[str, str]] = {}
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []
        self.connections: set[socket.socket] = set()
        self._next_id = 1
        for name in profiles:
            ident = self.new_id()
            self.profiles[ident] = {".id": ident, "name": name, **PROFILE_DEFAULTS}
            self.profiles[ident]["default"] = str(name == "default").lower()

    def profile_names(self) -> set[str]:
        return {p["name"] for p in self.profiles.values()}

    def new_id(self) -> str:
        value = f"*{self._next_id:X}"
        self._next_id += 1
        return value


class RouterOSError(Exception):
    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def _bad(detail: str) -> RouterOSError:
    return RouterOSError(400, "Bad Request", detail)


class FakeRouterOS:
    """The REST API of one router with a hotspot, on https://127.0.0.1:<port>/rest."""

    def __init__(
        self,
        tls: TlsFiles,
        user: str = "kiosk",
        password: str = "router-pass-1",
        profiles: tuple[str, ...] = ("default", "perpustakaan"),
    ) -> None:
        self.tls = tls
        self.user, self.password = user, password
        self.state = RouterState(profiles)
        # A login without RouterOS's `sensitive` policy is not shown users' passwords.
        self.hide_passwords = False
        # A router slow to make users: each create (PUT) waits this long before it is made,
        # and `creating` is set when one arrives.
        self.create_delay = 0.0
        self.creating = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # --------------------------------------------------------- seeding and reading

    def add_user(self, name: str, password: str = "staff-pass", **fields: str) -> str:
        """A user made on the router itself (a staff account, a voucher): not the kiosk's."""
        with self.state.lock:
            return self._create_user({"name": name, "password": password, **fields})

    def add_active_session(self, user: str) -> str:
        with self.state.lock:
            ident = self.state.new_id()
            self.state.active[ident] = {".id": ident, "user": user, "address": "10.5.50.23",
                                        "uptime": "5m"}  # fmt: skip
            return ident

    def hotspot_user(self, name: str) -> dict[str, str] | None:
        with self.state.lock:
            found = next((u for u in self.state.users.values() if u["name"] == name), None)
            return dict(found) if found else None

    def usernames(self) -> set[str]:
        with self.state.lock:
            return {u["name"] for u in self.state.users.values()}

    def user_profile(self, name: str) -> dict[str, str] | None:
        with self.state.lock:
            found = next((p for p in self.state.profiles.values() if p["name"] == name), None)
            return dict(found) if found else None

    def calls(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        with self.state.lock:
            return list(self.state.calls)

    # --------------------------------------------------------------- server

    def start(self) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
        fake = self

        class Handler(_Handler):
            router = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """The router goes away: the port refuses connections until start() again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Kept-alive connections would go on answering: a router that is off does not.
        with self.state.lock:
            connections, self.state.connections = self.state.connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --------------------------------------------------------------- the API

    def _create_user(self, body: dict[str, Any]) -> str:
        values = self._checked(body)
        if not values.get("name"):
            raise _bad("missing =name=")
        if any(u["name"] == values["name"] for u in self.state.users.values()):
            raise _bad("failure: already have user with this name for this server")
        ident = self.state.new_id()
        self.state.users[ident] = {
            ".id": ident,
            "server": "all",
            "profile": "default",
            "uptime": "0s",
            "bytes-in": "0",
            "bytes-out": "0",
            "packets-in": "0",
            "packets-out": "0",
            "dynamic": "false",
            "disabled": "false",
            "default": "false",
            **values,
        }
        return ident

    def _checked(self, body: dict[str, Any]) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in body.items():
            if key not in USER_FIELDS:
                raise _bad(f"unknown parameter {key}")
            values[key] = value if isinstance(value, str) else json.dumps(value)
        if "profile" in values and values["profile"] not in self.state.profile_names():
            raise _bad("input does not match any value of profile")
        if "limit-uptime" in values and not _TIME.match(values["limit-uptime"]):
            raise _bad(f"value of limit-uptime is not a time interval: {values['limit-uptime']}")
        return values

    def _create_profile(self, body: dict[str, Any]) -> str:
        values = self._checked_profile(body)
        if not values.get("name"):
            raise _bad("missing =name=")
        if values["name"] in self.state.profile_names():
            raise _bad("failure: profile with the same name already exists")
        ident = self.state.new_id()
        self.state.profiles[ident] = {".id": ident, **PROFILE_DEFAULTS, **values}
        return ident

    @staticmethod
    def _checked_profile(body: dict[str, Any]) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in body.items():
            if key not in PROFILE_FIELDS:
                raise _bad(f"unknown parameter {key}")
            if not isinstance(value, str):
                raise _bad(f"value of {key} must be a string")  # the REST API takes strings
            values[key] = value
        if not _RATE.match(values.get("rate-limit", "")):
            raise _bad(f"invalid value for argument rate-limit: {values['rate-limit']}")
        shared = values.get("shared-users", "1")
        if not (shared == "unlimited" or shared.isdigit() and int(shared) > 0):
            raise _bad(f"invalid value for argument shared-users: {shared}")
        for key in ("idle-timeout", "session-timeout"):
            if key in values and values[key] != "none" and not _TIME.match(values[key]):
                raise _bad(f"value of {key} is not a time interval: {values[key]}")
        return values

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        with self.state.lock:
            self.state.calls.append((method, path, body if isinstance(body, dict) else None))
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if parts[:1] != ["rest"]:
                raise RouterOSError(404, "Not Found")
            parts = parts[1:]
            if parts == ["system", "identity"] and method == "GET":
                return 200, {"name": "PerpustakaanHotspot"}
            tables = {
                ("ip", "hotspot", "user", "profile"): self.state.profiles,
                ("ip", "hotspot", "user"): self.state.users,
                ("ip", "hotspot", "active"): self.state.active,
            }
            table_key = next((k for k in tables if tuple(parts[: len(k)]) == k), None)
            if table_key is None:
                raise _bad(f"no such command or directory ({'/'.join(parts)})")
            table = tables[table_key]
            rest = parts[len(table_key) :]
            ident = rest[0] if rest else None
            if ident is None and method == "GET":
                found = self._select(list(table.values()), query)
                if self.hide_passwords:
                    for entry in found:
                        entry.pop("password", None)
                return 200, found
            if ident is None and method == "PUT" and table is self.state.users:
                if not isinstance(body, dict):
                    raise _bad("expected a JSON object")
                return 201, dict(table[self._create_user(body)])
            if ident is None and method == "PUT" and table is self.state.profiles:
                if not isinstance(body, dict):
                    raise _bad("expected a JSON object")
                return 201, dict(table[self._create_profile(body)])
            if ident is None:
                raise RouterOSError(405, "Method Not Allowed")
            if ident not in table:
                raise RouterOSError(404, "Not Found", "no such item")
            if method == "GET":
                return 200, dict(table[ident])
            if method == "PATCH" and table is self.state.users:
                if not isinstance(body, dict):
                    raise _bad("expected a JSON object")
                values = self._checked(body)
                name = values.get("name")
                if name and any(u["name"] == name and key != ident for key, u in table.items()):
                    raise _bad("failure: already have user with this name for this server")
                table[ident].update(values)
                return 200, dict(table[ident])
            if method == "PATCH" and table is self.state.profiles:
                if not isinstance(body, dict):
                    raise _bad("expected a JSON object")
                values = self._checked_profile(body)
                name = values.get("name")
                if name and any(p["name"] == name and key != ident for key, p in table.items()):
                    raise _bad("failure: profile with the same name already exists")
                table[ident].update(values)
                return 200, dict(table[ident])
            if method == "DELETE" and table is self.state.profiles:
                in_use = table[ident]["name"]
                if any(u.get("profile") == in_use for u in self.state.users.values()):
                    raise _bad("failure: profile is in use")
                del table[ident]
                return 204, None
            if method == "DELETE":
                del table[ident]
                return 204, None
            raise RouterOSError(405, "Method Not Allowed")

    @staticmethod
    def _select(rows: list[dict[str, str]], query: dict[str, str]) -> list[dict[str, str]]:
        proplist = query.pop(".proplist", "")
        found = [r for r in rows if all(r.get(k) == v for k, v in query.items())]
        if proplist:
            keep = proplist.split(",")
            found = [{k: v for k, v in r.items() if k in keep} for r in found]
        return [dict(r) for r in found]


class _Handler(BaseHTTPRequestHandler):
    router: FakeRouterOS
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40-200 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.router.state.lock:
            self.router.state.connections.add(self.connection)

    def finish(self) -> None:
        with self.router.state.lock:
            self.router.state.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None  # keep the test output quiet

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.router.user, self.router.password)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if not self._authorized():
                raise RouterOSError(401, "Unauthorized")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise _bad("JSON parse error") from None
            split = urlsplit(self.path)
            if self.command == "PUT" and self.router.create_delay:
                self.router.creating.set()
                time.sleep(self.router.create_delay)
            status, answer = self.router.handle(
                self.command, split.path, dict(parse_qsl(split.query)), body
            )
        except RouterOSError as exc:
            status = exc.status
            answer = {"error": exc.status, "message": exc.message}
            if exc.detail:
                answer["detail"] = exc.detail
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="kiosk-test-router"')
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (OSError, ssl.SSLError):
            self.close_connection = True  # the client died waiting (a killed backend)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = _serve
