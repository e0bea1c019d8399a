"""Fixtures for the provisioners: a FreeRADIUS database and server, a RouterOS stand-in."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.backend_server import BackendServer
from support.needs import unavailable
from support.radius_server import FreeRadiusServer, missing_reason
from support.routeros_fake import FakeRouterOS, TlsFiles, make_tls_files

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.mikrotik import MikrotikProvisioner
from kiosk.backend.provisioning.reconcile import JUST_ISSUED

# Where the library is; FreeRADIUS in these tests runs in the same zone.
RADIUS_TZ = "Asia/Jakarta"

CredentialFactory = Callable[..., NetworkCredential]


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def settled(now: dt.datetime) -> dt.datetime:
    """A reconciliation time after which users issued during the test no longer count as
    possibly still being committed by a check-in. The network side stamps a user with the
    wall clock when it is issued, after the fixtures' set-up: a minute of slack, since one
    second was passed once on the clean clone (a user issued over a second after `now` was still
    "just issued" at `settled` and was not removed)."""
    return now + JUST_ISSUED + dt.timedelta(minutes=1)


@pytest.fixture
def make_credential(now: dt.datetime) -> CredentialFactory:
    """A credential valid for `hours` from now (negative: already expired)."""

    def make(
        username: str = "p7k2m9", password: str = "Hx4tRw9q", hours: float = 2.0
    ) -> NetworkCredential:
        return NetworkCredential(username, password, now + dt.timedelta(hours=hours))

    return make


@pytest.fixture
def radius_db(tmp_path: Path) -> Path:
    return tmp_path / "radius.db"


@pytest.fixture
def freeradius_sql(radius_db: Path) -> Iterator[FreeRadiusSqlProvisioner]:
    provisioner = FreeRadiusSqlProvisioner(
        f"sqlite:///{radius_db}", group="perpustakaan", radius_timezone=RADIUS_TZ, timeout=0.3
    )
    yield provisioner
    provisioner.close()


@pytest.fixture
def freeradius(
    tmp_path: Path, radius_db: Path, freeradius_sql: FreeRadiusSqlProvisioner
) -> Iterator[FreeRadiusServer]:
    """Debian's FreeRADIUS, running in RADIUS_TZ, reading the test's SQLite file."""
    reason = missing_reason()
    if reason:
        unavailable(reason)
    # As in a library: the kiosk makes the database, then FreeRADIUS is pointed at it
    # (rlm_sql_sqlite refuses to start on a file that does not exist).
    freeradius_sql.check()
    server = FreeRadiusServer(tmp_path / "raddb", radius_db, tz=RADIUS_TZ)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def router_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    if shutil.which("openssl") is None:
        unavailable("the openssl command is needed to make the test router's certificate")
    return make_tls_files(tmp_path_factory.mktemp("router-tls"))


@pytest.fixture
def router(router_tls: TlsFiles) -> Iterator[FakeRouterOS]:
    fake = FakeRouterOS(router_tls)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def mikrotik(router: FakeRouterOS) -> Iterator[MikrotikProvisioner]:
    provisioner = MikrotikProvisioner(
        router.url,
        router.user,
        router.password,
        profile="perpustakaan",
        ca_file=str(router.tls.ca_file),
        timeout=3.0,
    )
    yield provisioner
    provisioner.close()


@pytest.fixture
def radius_backend(
    tmp_path: Path, radius_db: Path, freeradius: FreeRadiusServer
) -> Iterator[BackendServer]:
    """A real backend whose provisioner writes FreeRADIUS's tables in `radius_db`."""
    server = BackendServer(
        tmp_path / "backend",
        provisioning={
            "kind": "freeradius-sql",
            "database_url": f"sqlite:///{radius_db}",
            "group": "perpustakaan",
            "radius_timezone": RADIUS_TZ,
        },
    )
    yield server
    server.stop()
