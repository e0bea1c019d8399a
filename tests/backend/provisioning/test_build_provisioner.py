"""`[provisioning] kind` picks the provisioner; a missing or wrong setting is a ConfigError that
names the key, and building contacts nothing (a network side down at start-up is no crash)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.routeros_fake import FakeRouterOS

from kiosk.backend.provisioning import build_provisioner
from kiosk.backend.provisioning.freeradius import FreeRadiusSqlProvisioner
from kiosk.backend.provisioning.local import LocalProvisioner
from kiosk.backend.provisioning.mikrotik import PASSWORD_ENV, MikrotikProvisioner
from kiosk.config import ConfigError, ProvisioningSettings, Settings


def settings(**provisioning: Any) -> ProvisioningSettings:
    return Settings().with_overrides(provisioning=provisioning).provisioning


def test_local_is_the_default() -> None:
    assert isinstance(build_provisioner(Settings().provisioning), LocalProvisioner)


def test_freeradius_sql_needs_a_database_url() -> None:
    with pytest.raises(ConfigError, match="provisioning.database_url"):
        build_provisioner(settings(kind="freeradius-sql"))
    with pytest.raises(ConfigError, match="provisioning.database_url"):
        build_provisioner(settings(kind="freeradius-sql", database_url="not a url"))


def test_freeradius_sql_is_built_without_touching_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/not-yet/radius.db"
    provisioner = build_provisioner(settings(kind="freeradius-sql", database_url=url))
    assert isinstance(provisioner, FreeRadiusSqlProvisioner)
    assert not (tmp_path / "not-yet").exists()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("mysql://radius:pw@127.0.0.1/radius", "mysql+pymysql"),
        ("postgresql://radius:pw@127.0.0.1/radius", "postgresql+psycopg"),
        ("postgresql+psycopg://radius:pw@127.0.0.1/radius", "postgresql+psycopg"),
    ],
)
def test_a_bare_mysql_or_postgresql_url_uses_the_installed_driver(url: str, driver: str) -> None:
    provisioner = build_provisioner(settings(kind="freeradius-sql", database_url=url))
    assert isinstance(provisioner, FreeRadiusSqlProvisioner)
    assert provisioner.engine.url.drivername == driver
    assert ":pw@" not in provisioner.where  # the name used in logs and errors hides it


def test_an_unknown_radius_timezone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="radius_timezone"):
        settings(kind="freeradius-sql", radius_timezone="Mars/Olympus")


def test_mikrotik_refuses_plain_http_and_a_missing_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match="must be https"):
        build_provisioner(
            settings(kind="mikrotik-rest", mikrotik={"url": "http://10.0.0.1", "password": "x"})
        )
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        build_provisioner(settings(kind="mikrotik-rest"))
    with pytest.raises(ConfigError, match="ca_file"):
        build_provisioner(
            settings(
                kind="mikrotik-rest",
                mikrotik={"password": "x", "ca_file": str(tmp_path / "missing.pem")},
            )
        )


def test_mikrotik_takes_the_router_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, router: FakeRouterOS
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, router.password)
    provisioner = build_provisioner(
        settings(
            kind="mikrotik-rest",
            mikrotik={"url": router.url, "user": router.user, "ca_file": str(router.tls.ca_file)},
        )
    )
    assert isinstance(provisioner, MikrotikProvisioner)
    provisioner.check()
    provisioner.close()
