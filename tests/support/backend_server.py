"""The real credential backend as a subprocess on a free loopback port (Datasette-style).

Writes a config.toml into a temp directory (tokens, a SQLite file there, a raised rate
limit), imports members, starts `python -m kiosk backend --config ...` and polls
/api/v1/health until it answers. Tests then talk HTTP to `.base_url` with `.token`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import tomlkit

from kiosk.config import merge_sections
from kiosk.ports import free_port

REPO = Path(__file__).resolve().parents[2]
DEMO_MEMBERS = REPO / "assets" / "demo" / "members.csv"
DEFAULT_TOKEN = "test-token-0123456789abcdef"
START_TIMEOUT = 90.0  # waits for /health; only a server that never answers uses it all
LIBRARY_CARD_PATTERN = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))["cards"][
    "pattern"
]
JAKARTA = dt.timezone(dt.timedelta(hours=7))
# settings key -> a database file with the demo members imported (see _members_from_template)
_TEMPLATES: dict[str, Path] = {}


def checkin_body(card: str = "19000123", **overrides: Any) -> dict[str, Any]:
    """A valid POST /checkins (or /visits) body with a new client_ref; keywords replace
    fields. 19000123 is the demo's active member, 19000124 expired, 19000125 blocked."""
    body: dict[str, Any] = {
        "client_ref": str(uuid.uuid4()),
        "card": card,
        "answers": {"purpose": "internet", "occupation": "mahasiswa"},
        "want_internet": True,
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": dt.datetime.now(dt.UTC).astimezone(JAKARTA).isoformat(),
    }
    body.update(overrides)
    return body


def post_together(
    server: BackendServer, path: str | list[str], bodies: list[dict[str, Any]]
) -> list[Any]:
    """Send every body at once (to `path`, or to each body's own path when it is a list):
    all threads wait at a barrier, then post."""
    paths = [path] * len(bodies) if isinstance(path, str) else path
    barrier = threading.Barrier(len(bodies))

    def send(path: str, body: dict[str, Any]) -> requests.Response:
        session = requests.Session()
        # Connect first so the barrier releases requests, not TCP handshakes.
        session.get(server.url("health"), timeout=10)
        barrier.wait(timeout=30)
        return session.post(server.url(path), json=body, headers=server.headers, timeout=30)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, paths, bodies))


def _copy_database(source: Path, target: Path) -> None:
    """A closed SQLite database with its WAL, if one was left (modes kept: 0600)."""
    for suffix in ("", "-wal"):
        part = source.with_name(source.name + suffix)
        if part.exists():
            shutil.copy2(part, target.with_name(target.name + suffix))


class BackendServer:
    """One backend process with its own config, database and port.

    Settings overrides are sections of config.toml, e.g.
    `BackendServer(tmp, credentials={"valid_days": 2}, backend={"rate_limit_per_minute": 5})`.
    `members_csv=None` starts with no members. The port and database stay the same across
    `.stop()` / `.start()`, so a restarted server sees the same data.
    """

    def __init__(
        self,
        tmp_dir: Path | str,
        *,
        members_csv: Path | str | None = DEMO_MEMBERS,
        token: str = DEFAULT_TOKEN,
        extra_tokens: list[str] | None = None,
        port: int | None = None,
        workers: int = 1,
        start: bool = True,
        env: dict[str, str] | None = None,
        flags: list[str] | None = None,
        **sections: dict[str, Any],
    ) -> None:
        self.dir = Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.base_url = f"http://{self.host}:{self.port}"
        self.api_url = f"{self.base_url}/api/v1"
        self.config_path = self.dir / "config.toml"
        self.database_path = self.dir / "kiosk.db"
        self.log_path = self.dir / "server.out"
        self.workers = workers
        self._env = env or {}
        self._flags = flags or []  # more `kiosk backend` arguments
        self.process: subprocess.Popen[bytes] | None = None
        config: dict[str, Any] = {
            "kiosk": {
                "backend_url": self.base_url,
                "api_token": token,
                "data_dir": str(self.dir / "kiosk-data"),
            },
            "backend": {
                "database_url": f"sqlite:///{self.database_path}",
                "api_tokens": [token, *(extra_tokens or [])],
                "host": self.host,
                "port": self.port,
                # Tests fire hundreds of requests a minute; the limit is tested on its own.
                "rate_limit_per_minute": 100_000,
                "unknown_members_per_10_minutes": 100_000,
                "log_dir": str(self.dir / "log"),
                "workers": workers,
            },
            "provisioning": {"reconcile_seconds": 3600.0},
            # The library's own member numbers (19xxxxxx), as in the demo members.
            "cards": {"pattern": LIBRARY_CARD_PATTERN},
        }
        config = merge_sections(config, sections)
        self.config_path.write_text(tomlkit.dumps(config), encoding="utf-8")
        if members_csv is not None:
            own_file = config["backend"]["database_url"] == f"sqlite:///{self.database_path}"
            if own_file and not self.database_path.exists():
                self._members_from_template(Path(members_csv), config)
            else:
                self.import_members(members_csv)
        if start:
            self.start()

    # ------------------------------------------------------------ commands

    def kiosk(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `python -m kiosk ARGS --config <this config>` and return its result."""
        command = [sys.executable, "-m", "kiosk", *args, "--config", str(self.config_path)]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=self.dir,
            env=self._environment(),
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def kiosk_with_input(self, text: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Like `kiosk`, with `text` on standard input (passwords for `kiosk staff`)."""
        command = [sys.executable, "-m", "kiosk", *args, "--config", str(self.config_path)]
        result = subprocess.run(
            command,
            input=text,
            capture_output=True,
            text=True,
            cwd=self.dir,
            env=self._environment(),
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def _members_from_template(self, csv_path: Path, config: dict[str, Any]) -> None:
        """A copy of a database into which this CSV was imported once per test session under
        the same settings: the import's own process (~1.5 s) is paid once, not per server."""
        settings = {k: v for k, v in config.items() if k not in ("kiosk", "backend")}
        backend = {
            k: v
            for k, v in config["backend"].items()
            if k not in ("port", "database_url", "log_dir", "host")
        }
        key = hashlib.sha256(
            csv_path.read_bytes() + json.dumps([settings, backend], sort_keys=True).encode()
        ).hexdigest()[:16]
        template = _TEMPLATES.get(key)
        if template is None or not template.exists():
            self.import_members(csv_path)
            folder = Path(tempfile.mkdtemp(prefix="kiosk-members-template-"))
            template = folder / "kiosk.db"
            _copy_database(self.database_path, template)
            _TEMPLATES[key] = template
            return
        _copy_database(template, self.database_path)

    def import_members(self, csv_path: Path | str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.kiosk("members", "import", str(csv_path), *extra)

    # ------------------------------------------------------------ process

    def start(self) -> None:
        """Start the server (same port, same database) and wait until /health answers."""
        if self.process is not None and self.process.poll() is None:
            return
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "kiosk", "backend", "--config", str(self.config_path)]
        command += self._flags
        self.process = subprocess.Popen(
            command, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, env=self._environment()
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"backend exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.api_url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)  # polling a port: there is no event to await
        self.kill()
        raise RuntimeError(f"backend did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not go within 10 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the server dies mid-whatever, as in a power cut."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: the socket still accepts connections but nothing ever replies."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # ------------------------------------------------------------ HTTP

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str) -> str:
        """`/checkins` -> the full URL under /api/v1."""
        return f"{self.api_url}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url(path), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 10)
        return requests.post(self.url(path), json=json, **kwargs)

    def staff_browser(self, username: str, password: str) -> requests.Session:
        """A requests session signed in to the console the way a browser does: the login
        form first (its token), then the post."""
        browser = requests.Session()
        form = browser.get(f"{self.base_url}/staff/login", timeout=10).text
        token = form.split('name="login_token" value="', 1)[1].split('"', 1)[0]
        answer = browser.post(
            f"{self.base_url}/staff/login",
            data={"username": username, "password": password, "login_token": token},
            timeout=10,
        )
        assert answer.url.endswith("/staff/"), answer.text[:500]
        return browser

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------ plumbing

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # The child must import this checkout's kiosk package whatever its cwd.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env.update(self._env)
        return env

    def __enter__(self) -> BackendServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
