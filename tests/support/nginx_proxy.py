"""The shipped nginx config (deploy/nginx-kiosk-backend.conf) run for real on loopback, in a
temp prefix, with a self-signed certificate and the upstream pointing at test instances."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import requests
import urllib3

from kiosk.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx-kiosk-backend.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class NoNginx(RuntimeError):
    """nginx or openssl is not installed."""


class NginxProxy:
    def __init__(
        self, directory: Path, upstream_ports: list[int], *, per_address: int | None = None
    ) -> None:
        """`per_address` replaces the config's connection cap per client address (a load
        test whose kiosks all come from 127.0.0.1)."""
        if not Path(NGINX).exists() or shutil.which("openssl") is None:
            raise NoNginx("nginx and openssl are needed (scripts/system-deps.sh installs them)")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/api/v1"
        cert, key = self.dir / "backend.crt", self.dir / "backend.key"
        self.certificate = cert  # a kiosk's [kiosk] ca_file for this proxy
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", "/CN=kiosk-test", "-addext", "subjectAltName=IP:127.0.0.1"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        site = SITE.read_text(encoding="utf-8")
        servers = "".join(
            f"    server 127.0.0.1:{port} max_fails=2 fail_timeout=5s;\n" for port in upstream_ports
        )
        # The shipped upstream block, with the test's instances in it.
        site = re.sub(
            r"(upstream kiosk_backend \{\n)(?:.*\n)*?(    keepalive)", rf"\g<1>{servers}\2", site
        )
        site = site.replace("/etc/ssl/kiosk/backend.crt", str(cert))
        site = site.replace("/etc/ssl/kiosk/backend.key", str(key))
        site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;")
        if per_address is not None:
            site = re.sub(
                r"limit_conn kiosk_per_address \d+;",
                f"limit_conn kiosk_per_address {per_address};",
                site,
            )
        (self.dir / "site.conf").write_text(site, encoding="utf-8")
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            f"{user}pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\n"
            "worker_processes 1;\nevents {}\n"
            f"http {{\n  access_log {self.dir}/access.log;\n  include {self.dir}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/health", timeout=1, verify=False)
                return
            except requests.RequestException:
                time.sleep(0.05)  # polling a port: there is no event to await
        raise RuntimeError((self.dir / "error.log").read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
