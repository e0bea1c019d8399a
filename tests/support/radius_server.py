"""A throwaway FreeRADIUS (Debian's package) on loopback, run from the configuration the project
writes, on a test's SQLite file or a PostgreSQL/MariaDB URL, and a pyrad client that logs patrons
in and accounts for them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections import deque
from pathlib import Path

from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessReject, AccessRequest

from kiosk.backend.provisioning.radius_config import write_radius_config
from kiosk.config import ProvisioningSettings, RadiusSettings
from kiosk.config.internet import RadiusClient

# Debian's layout: the modules, the sqlite driver and the stock SQL queries.
FREERADIUS_BINARY = shutil.which("freeradius") or shutil.which("radiusd")
MODULE_DIR = Path("/usr/lib/freeradius")
DICTIONARY_DIR = Path("/usr/share/freeradius")
SQLITE_QUERIES = Path("/etc/freeradius/3.0/mods-config/sql/main/sqlite/queries.conf")

# Only the attributes the tests send or read; pyrad needs them by number.
PYRAD_DICTIONARY = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE NAS-Port 5 integer
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE NAS-Identifier 32 string
"""


def missing_reason() -> str | None:
    """Why this machine cannot run the real FreeRADIUS test, or None when it can."""
    if FREERADIUS_BINARY is None:
        return "the freeradius binary is not installed (Debian: apt-get install freeradius)"
    if not (MODULE_DIR / "rlm_sql_sqlite.so").exists():
        return f"rlm_sql_sqlite.so not found in {MODULE_DIR}"
    if not SQLITE_QUERIES.exists():
        return f"FreeRADIUS's SQLite queries not found at {SQLITE_QUERIES}"
    return None


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FreeRadiusServer:
    """`freeradius -X` on a free loopback port, configured in `raddb`, reading `database`
    (or `database_url`, a PostgreSQL or MariaDB one)."""

    def __init__(
        self,
        raddb: Path,
        database: Path,
        secret: str = "kiosk-test-secret",
        tz: str = "UTC",
        database_url: str = "",
        debug: bool = True,
    ) -> None:
        self.raddb = raddb
        self.database = database
        self.database_url = database_url or f"sqlite:///{database}"
        self.debug = debug  # -X prints every request: a bench runs without it
        self.secret = secret
        self.tz = tz
        self.auth_port = free_udp_port()
        self.acct_port = free_udp_port()
        self.output: deque[str] = deque(maxlen=400)
        self._ready = threading.Event()
        self._serving = False
        self._new_output = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def write_config(self) -> None:
        for sub in ("log", "run", "radacct"):
            (self.raddb / sub).mkdir(parents=True, exist_ok=True)
        # Exactly what `kiosk network radius-config` writes, pointed at loopback.
        settings = ProvisioningSettings(
            kind="freeradius-sql",
            database_url=self.database_url,
            radius=RadiusSettings(
                listen_address="127.0.0.1",
                auth_port=self.auth_port,
                acct_port=self.acct_port,
                clients=[RadiusClient(address="127.0.0.1", secret=self.secret, name="kiosk_test")],
                reject_delay=0,  # the tests want a Reject at once
            ),
        )
        write_radius_config(self.raddb, settings)  # EAP with a self-signed pair

    def start(self, timeout: float = 30.0) -> None:
        assert FREERADIUS_BINARY is not None
        self.write_config()
        # rlm_expiration reads Expiration with mktime(): the server's TZ decides its meaning.
        env = {**os.environ, "TZ": self.tz}
        flags = ["-X"] if self.debug else ["-f", "-l", "stdout"]
        self._process = subprocess.Popen(
            [FREERADIUS_BINARY, *flags, "-d", str(self.raddb)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout) or not self._serving:
            self.stop()
            raise RuntimeError("freeradius did not start:\n" + self.log_tail())

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            with self._new_output:
                self.output.append(line.rstrip("\n"))
                self._new_output.notify_all()
            if "Ready to process requests" in line:
                self._serving = True
                self._ready.set()
        self._ready.set()  # exited: wake the waiter, which then sees poll() set

    def wait_for_log(self, text: str, timeout: float = 5.0) -> bool:
        """Whether the server's debug output shows `text` (now or within `timeout`): its log
        lines may trail the reply the client already has."""
        with self._new_output:
            return self._new_output.wait_for(
                lambda: any(text in line for line in self.output), timeout
            )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(list(self.output)[-lines:])

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)

    def client(self) -> RadiusLogin:
        dictionary_path = self.raddb / "pyrad.dictionary"
        dictionary_path.write_text(PYRAD_DICTIONARY, encoding="utf-8")
        return RadiusLogin(self.auth_port, self.secret.encode(), dictionary_path)


class RadiusLogin:
    """What a hotspot does when a patron types a username and password: an Access-Request."""

    def __init__(self, port: int, secret: bytes, dictionary: Path) -> None:
        self._client = Client(
            server="127.0.0.1", authport=port, secret=secret, dict=Dictionary(str(dictionary))
        )
        self._client.timeout = 5
        self._client.retries = 1

    def answer(self, username: str, password: str) -> tuple[str, dict[str, list[object]]]:
        """("accept" | "reject", reply attributes) for this username and password."""
        request = self._client.CreateAuthPacket(code=AccessRequest, User_Name=username)
        request["User-Password"] = request.PwCrypt(password)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["NAS-Identifier"] = "kiosk-test"
        try:
            reply = self._client.SendPacket(request)
        except Timeout as exc:
            raise AssertionError("freeradius did not answer the Access-Request") from exc
        attributes = {key: list(reply[key]) for key in reply.keys()}
        if reply.code == AccessAccept:
            return "accept", attributes
        if reply.code == AccessReject:
            return "reject", attributes
        raise AssertionError(f"unexpected RADIUS answer code {reply.code}")
