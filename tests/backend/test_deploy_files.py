"""The shipped deploy files hold: the service raises the open-file limit, and the nginx TLS
config is accepted by the real nginx (issue 11 item 4)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from support.needs import unavailable

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def test_the_backend_service_raises_the_open_file_limit() -> None:
    lines = (DEPLOY / "kiosk-backend.service").read_text().splitlines()
    limits = [line.split("=", 1)[1] for line in lines if line.startswith("LimitNOFILE=")]
    assert limits and int(limits[0]) >= 16384


def test_the_nginx_tls_config_is_valid(tmp_path: Path) -> None:
    if not Path(NGINX).exists():
        unavailable("nginx is not installed (scripts/system-deps.sh installs it)")
    site = (DEPLOY / "nginx-kiosk-backend.conf").read_text()
    cert, key = tmp_path / "backend.crt", tmp_path / "backend.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=kiosk-test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    site = site.replace("/etc/ssl/kiosk/backend.crt", str(cert))
    site = site.replace("/etc/ssl/kiosk/backend.key", str(key))
    site = site.replace("listen 443 ssl;", "listen 127.0.0.1:8443 ssl;")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
