"""radacct on a disk that fills up (a tiny tmpfs, mounted as root): FreeRADIUS logs the write
that failed and does not answer, so the NAS keeps the accounting and sends it again; once
there is room, the retry is recorded and nothing is lost."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hotspot_nas import HotspotNas
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner

RADIUS_TZ = "Asia/Jakarta"
PASSWORD = "kt7-Raha5ia"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: only root may mount one."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        unavailable("a full disk is shown on a tmpfs, which only root can mount")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Write zeros until the disk is full; the filler file."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(bytes(64 * 1024))
                out.flush()
        except OSError:
            pass
    return filler


@pytest.mark.freeradius
def test_a_full_disk_is_logged_the_nas_is_not_answered_and_its_retry_is_kept(
    small_disk: Path, tmp_path: Path
) -> None:
    reason = missing_reason()
    if reason:
        unavailable(reason)
    database = small_disk / "radius.db"
    provisioner = FreeRadiusSqlProvisioner(f"sqlite:///{database}", radius_timezone=RADIUS_TZ)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    provisioner.issue(NetworkCredential("pmember1", PASSWORD, expires))
    provisioner.close()
    server = FreeRadiusServer(tmp_path / "raddb", database, tz=RADIUS_TZ)
    server.start()
    try:
        nas = HotspotNas(server.auth_port, server.acct_port, server.secret, tmp_path, timeout=2)
        filler = fill(small_disk)
        # Logging in only reads: it still works on a full disk.
        assert nas.login("pmember1", PASSWORD, "AA-BB-CC-00-00-01")[0], server.log_tail()
        assert not nas.account("pmember1", "Start", "s-full"), "answered but not written"
        assert server.wait_for_log("database or disk is full"), server.log_tail()

        filler.unlink()  # the operator makes room; the NAS sends the Start again
        assert nas.account("pmember1", "Start", "s-full"), server.log_tail()
        with sqlite3.connect(database) as conn:
            rows = conn.execute("SELECT username, acctsessionid FROM radacct").fetchall()
        assert rows == [("pmember1", "s-full")]
    finally:
        server.stop()
