"""A throwaway FreeRADIUS (Debian's package) on loopback: rlm_sql on a test's SQLite file,
rlm_expiration and PAP, and a pyrad client that asks it whether a patron may log in."""

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

RADIUSD_CONF = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {raddb}
confdir = {raddb}
logdir = {raddb}/log
run_dir = {raddb}/run
db_dir = {raddb}
radacctdir = {raddb}/radacct
libdir = {libdir}
pidfile = {raddb}/run/radiusd.pid
name = freeradius
max_request_time = 10
cleanup_delay = 0
max_requests = 1024
hostname_lookups = no

log {{
    destination = stdout
    colourise = no
    auth = yes
}}

security {{
    allow_core_dumps = no
    max_attributes = 200
    # The tests want a Reject at once, not after the default 1 s anti-guessing delay.
    reject_delay = 0
    status_server = yes
}}

thread pool {{
    start_servers = 2
    max_servers = 4
    min_spare_servers = 1
    max_spare_servers = 3
    max_requests_per_server = 0
    auto_limit_acct = no
}}

client kiosk_test {{
    ipaddr = 127.0.0.1
    secret = {secret}
    require_message_authenticator = no
}}

modules {{
    pap {{
        normalise = yes
    }}
    expiration {{
    }}
    # %{{tolower:...}} in the stock SQL queries comes from rlm_expr.
    expr {{
    }}
    sql {{
        dialect = "sqlite"
        driver = "rlm_sql_sqlite"
        sqlite {{
            filename = "{database}"
            busy_timeout = 2000
        }}
        radius_db = "radius"
        acct_table1 = "radacct"
        acct_table2 = "radacct"
        postauth_table = "radpostauth"
        authcheck_table = "radcheck"
        groupcheck_table = "radgroupcheck"
        authreply_table = "radreply"
        groupreply_table = "radgroupreply"
        usergroup_table = "radusergroup"
        read_groups = yes
        read_clients = no
        delete_stale_sessions = yes
        client_table = "nas"
        group_attribute = "SQL-Group"
        pool {{
            start = 1
            min = 1
            max = 4
            spare = 2
            uses = 0
            retry_delay = 1
            lifetime = 0
            idle_timeout = 60
        }}
        $INCLUDE {queries}
    }}
}}

server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth_port}
    }}
    authorize {{
        sql
        expiration
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
    }}
    post-auth {{
        # radpostauth proves the kiosk's schema takes FreeRADIUS's own inserts too.
        sql
        Post-Auth-Type REJECT {{
            sql
        }}
    }}
}}
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
    """`freeradius -X` on a free loopback port, configured in `raddb`, reading `database`."""

    def __init__(
        self, raddb: Path, database: Path, secret: str = "kiosk-test-secret", tz: str = "UTC"
    ) -> None:
        self.raddb = raddb
        self.database = database
        self.secret = secret
        self.tz = tz
        self.auth_port = free_udp_port()
        self.output: deque[str] = deque(maxlen=400)
        self._ready = threading.Event()
        self._serving = False
        self._new_output = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def write_config(self) -> None:
        for sub in ("log", "run", "radacct"):
            (self.raddb / sub).mkdir(parents=True, exist_ok=True)
        (self.raddb / "dictionary").write_text(
            f"$INCLUDE {DICTIONARY_DIR}/dictionary\n", encoding="utf-8"
        )
        (self.raddb / "radiusd.conf").write_text(
            RADIUSD_CONF.format(
                raddb=self.raddb,
                libdir=MODULE_DIR,
                secret=self.secret,
                database=self.database,
                queries=SQLITE_QUERIES,
                auth_port=self.auth_port,
            ),
            encoding="utf-8",
        )

    def start(self, timeout: float = 30.0) -> None:
        assert FREERADIUS_BINARY is not None
        self.write_config()
        # rlm_expiration reads Expiration with mktime(): the server's TZ decides its meaning.
        env = {**os.environ, "TZ": self.tz}
        self._process = subprocess.Popen(
            [FREERADIUS_BINARY, "-X", "-d", str(self.raddb)],
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
