"""802.1X (WPA2-Enterprise): the same credential logs in through PEAP-MSCHAPv2 and TTLS-PAP with
`eapol_test` against the real FreeRADIUS run from the written configuration, and the access
point gets the library's rules with the Accept."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

USERNAME, PASSWORD = "siti01", "Pw-12345x"
METHODS = {
    "PEAP-MSCHAPv2": 'eap=PEAP\n  phase2="auth=MSCHAPV2"',
    "TTLS-PAP": 'eap=TTLS\n  phase2="auth=PAP"',
}
IDLE_TIMEOUT, SESSION_TIMEOUT = "Attribute 28 (Idle-Timeout)", "Attribute 27 (Session-Timeout)"


@pytest.fixture
def radius(tmp_path: Path) -> Iterator[tuple[FreeRadiusSqlProvisioner, FreeRadiusServer]]:
    reason = missing_reason()
    if reason:
        unavailable(reason)
    if shutil.which("eapol_test") is None:
        unavailable("eapol_test is not installed (Debian: apt-get install eapoltest)")
    database = tmp_path / "radius.db"
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{database}")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    provisioner.issue(NetworkCredential(USERNAME, PASSWORD, expires))
    server = FreeRadiusServer(tmp_path / "raddb", database)
    server.start()
    try:
        yield provisioner, server
    finally:
        server.stop()
        provisioner.close()


def supplicant(
    server: FreeRadiusServer, method: str, password: str, tmp_path: Path
) -> tuple[bool, str]:
    """A device joining the network with `method`: (authenticated, the Accept's attributes)."""
    conf = tmp_path / f"{method}.conf"
    conf.write_text(
        f'network={{\n  key_mgmt=WPA-EAP\n  {METHODS[method]}\n  identity="{USERNAME}"\n'
        f'  password="{password}"\n  ca_cert="{server.raddb / "certs" / "server.pem"}"\n}}\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        ["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(server.auth_port),
         "-s", server.secret, "-t", "20"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    accept = result.stdout.rpartition("RADIUS message: code=2")[2]
    return result.returncode == 0 and "SUCCESS" in result.stdout, accept


@pytest.mark.freeradius
@pytest.mark.parametrize("method", list(METHODS))
def test_a_credential_logs_in_by_8021x_with_the_librarys_rules(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer], method: str, tmp_path: Path
) -> None:
    _, server = radius
    accepted, attributes = supplicant(server, method, PASSWORD, tmp_path)
    assert accepted, server.log_tail(80)
    assert IDLE_TIMEOUT in attributes and SESSION_TIMEOUT in attributes, attributes


@pytest.mark.freeradius
@pytest.mark.parametrize("method", list(METHODS))
def test_a_wrong_or_revoked_credential_is_refused_by_8021x(
    radius: tuple[FreeRadiusSqlProvisioner, FreeRadiusServer], method: str, tmp_path: Path
) -> None:
    provisioner, server = radius
    assert not supplicant(server, method, "not-the-password", tmp_path)[0]
    provisioner.revoke(USERNAME)
    assert not supplicant(server, method, PASSWORD, tmp_path)[0]
