"""mikrotik-rest against a local HTTPS server that follows RouterOS's documented REST behaviour
(no router runs here): create, update, remove, list, errors, a router that is down, TLS."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.routeros_fake import FakeRouterOS

from kiosk.backend.provisioning.base import (
    CredentialRejected,
    NetworkCredential,
    ProvisioningUnavailable,
)
from kiosk.backend.provisioning.mikrotik import (
    COMMENT_PREFIX,
    MikrotikProvisioner,
    parse_routeros_duration,
    routeros_duration,
)
from kiosk.config import InternetSettings

if TYPE_CHECKING:
    from provisioning.conftest import CredentialFactory

POLICIES = InternetSettings.model_validate(
    {
        "member": {"daily_minutes": 120, "devices": 1, "download_kbps": 2048,
                   "upload_kbps": 1024, "idle_minutes": 15},
        "guest": {"daily_minutes": 60, "devices": 2, "download_kbps": 0,
                  "upload_kbps": 512, "idle_minutes": 0},
        "group": {"daily_minutes": 0, "devices": 0, "download_kbps": 0,
                  "upload_kbps": 0, "idle_minutes": 5},
    }
)  # fmt: skip


@pytest.fixture
def with_policies(router: FakeRouterOS) -> Iterator[MikrotikProvisioner]:
    provisioner = MikrotikProvisioner(
        router.url,
        router.user,
        router.password,
        profile="perpustakaan",
        ca_file=str(router.tls.ca_file),
        internet=POLICIES,
    )
    yield provisioner
    provisioner.close()


def uptime(router: FakeRouterOS, username: str) -> int:
    user = router.hotspot_user(username)
    assert user is not None
    return parse_routeros_duration(user["limit-uptime"])


def test_durations_are_written_and_read_in_routeros_notation() -> None:
    assert routeros_duration(86_400) == "1d"
    assert routeros_duration(2 * 3600 + 30 * 60 + 0.2) == "2h30m1s"
    assert routeros_duration(0) == "1s"
    assert parse_routeros_duration("1w2d3h4m5s") == 7 * 86_400 + 2 * 86_400 + 3 * 3600 + 245
    assert parse_routeros_duration("1d02:03:04") == 86_400 + 2 * 3600 + 184
    assert parse_routeros_duration("") == 0


def test_issue_creates_a_hotspot_user_with_string_values(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    credential = make_credential(hours=24)
    mikrotik.issue(credential)
    user = router.hotspot_user("p7k2m9")
    assert user is not None
    assert user["password"] == "Hx4tRw9q"
    assert user["profile"] == "perpustakaan"
    # The safety net: a day online at most (rounded up to the second it was sent in).
    assert 86_390 <= parse_routeros_duration(user["limit-uptime"]) <= 86_400
    assert user["comment"].startswith(COMMENT_PREFIX)
    (put,) = [body for method, _, body in router.calls() if method == "PUT"]
    assert put is not None and all(isinstance(v, str) for v in put.values())
    assert mikrotik.current() == {"p7k2m9": credential}


def test_renew_updates_the_same_user_and_keeps_the_time_already_used(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    mikrotik.issue(make_credential(password="first-pw", hours=1))
    user = router.hotspot_user("p7k2m9")
    assert user is not None
    ident = user[".id"]
    with router.state.lock:
        router.state.users[ident]["uptime"] = "40m"
    renewed = make_credential(password="second-pw", hours=2)
    mikrotik.renew(renewed)
    user = router.hotspot_user("p7k2m9")
    assert user is not None and user[".id"] == ident
    assert user["password"] == "second-pw"
    assert 2 * 3600 + 40 * 60 - 10 <= parse_routeros_duration(user["limit-uptime"])
    assert [m for m, path, _ in router.calls() if path.endswith(ident)] == ["PATCH"]
    assert mikrotik.current() == {"p7k2m9": renewed}


def test_revoke_removes_the_user_and_ends_its_session(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    mikrotik.issue(make_credential())
    router.add_active_session("p7k2m9")
    other = router.add_active_session("someone-else")
    mikrotik.revoke("p7k2m9")
    mikrotik.revoke("p7k2m9")
    assert router.hotspot_user("p7k2m9") is None
    assert set(router.state.active) == {other}


def test_users_the_kiosk_did_not_make_are_never_touched(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    router.add_user("pustakawan", password="staff-secret", comment="staff")
    router.add_user("voucher01", password="v-1")
    mikrotik.issue(make_credential())
    with pytest.raises(CredentialRejected, match="pustakawan"):
        mikrotik.issue(make_credential(username="pustakawan"))
    mikrotik.revoke("voucher01")
    assert mikrotik.usernames() == {"p7k2m9"}
    assert router.hotspot_user("pustakawan")["password"] == "staff-secret"  # type: ignore[index]
    assert router.hotspot_user("voucher01") is not None


def test_an_error_body_from_the_router_is_reported_with_its_detail(
    router: FakeRouterOS, make_credential: CredentialFactory
) -> None:
    provisioner = MikrotikProvisioner(
        router.url, router.user, router.password, "no-such-profile", str(router.tls.ca_file)
    )
    with pytest.raises(CredentialRejected, match="input does not match any value of profile"):
        provisioner.issue(make_credential())
    assert router.usernames() == set()


def test_a_wrong_router_password_is_unavailable_without_the_password_in_the_message(
    router: FakeRouterOS, make_credential: CredentialFactory
) -> None:
    provisioner = MikrotikProvisioner(
        router.url, router.user, "wrong-router-pw", ca_file=str(router.tls.ca_file)
    )
    with pytest.raises(ProvisioningUnavailable, match="401 Unauthorized") as raised:
        provisioner.issue(make_credential())
    assert "wrong-router-pw" not in str(raised.value)
    assert "Hx4tRw9q" not in str(raised.value)
    with pytest.raises(ProvisioningUnavailable, match="401"):
        provisioner.check()


def test_a_router_that_is_down_is_unavailable(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    mikrotik.check()
    router.stop()
    with pytest.raises(ProvisioningUnavailable, match="ConnectionError"):
        mikrotik.issue(make_credential())
    with pytest.raises(ProvisioningUnavailable):
        mikrotik.check()
    with pytest.raises(ProvisioningUnavailable):
        mikrotik.current()


def test_the_router_certificate_must_be_signed_by_the_configured_ca(
    router: FakeRouterOS, tmp_path: Path, make_credential: CredentialFactory
) -> None:
    # Without the router's CA, the system's store does not trust the test CA.
    untrusting = MikrotikProvisioner(router.url, router.user, router.password)
    with pytest.raises(ProvisioningUnavailable, match="TLS certificate not trusted"):
        untrusting.issue(make_credential())
    # Another CA's file does not help either.
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text(), encoding="utf-8")
    wrong = MikrotikProvisioner(router.url, router.user, router.password, ca_file=str(other_ca))
    with pytest.raises(ProvisioningUnavailable, match="TLS"):
        wrong.check()
    trusting = MikrotikProvisioner(
        router.url, router.user, router.password, ca_file=str(router.tls.ca_file)
    )
    trusting.issue(make_credential())
    assert router.usernames() == {"p7k2m9"}


def test_an_expired_comment_reads_back_as_that_expiry(
    router: FakeRouterOS, mikrotik: MikrotikProvisioner
) -> None:
    router.add_user(
        "pold01", password="x", comment=f"{COMMENT_PREFIX} expires=2026-01-02T03:04:05Z"
    )
    router.add_user("pbroken", password="y", comment=f"{COMMENT_PREFIX} expires=garbage")
    held = mikrotik.current()
    assert held["pold01"].expires_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert held["pbroken"].expires_at < dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def test_each_kind_of_patron_gets_a_profile_with_its_policy_made_from_the_base_profile(
    router: FakeRouterOS, with_policies: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    # The library's own profile carries its network settings: the kinds' profiles keep them.
    with router.state.lock:
        base = next(p for p in router.state.profiles.values() if p["name"] == "perpustakaan")
        base.update({"address-list": "patrons", "keepalive-timeout": "5m"})
    member = make_credential(hours=24)
    guest = dataclasses.replace(make_credential("pguest1", hours=24), kind="guest")
    group = dataclasses.replace(make_credential("pgroup1", hours=24), kind="group")
    for credential in (member, guest, group):
        with_policies.issue(credential)
    assert router.hotspot_user("p7k2m9")["profile"] == "perpustakaan-member"  # type: ignore[index]
    assert router.hotspot_user("pguest1")["profile"] == "perpustakaan-guest"  # type: ignore[index]
    wanted = {
        "perpustakaan-member": ("1024k/2048k", "1", "15m"),
        "perpustakaan-guest": ("512k/0", "2", "none"),
        "perpustakaan-group": ("", "unlimited", "5m"),
    }
    for name, (rate, shared, idle) in wanted.items():
        profile = router.user_profile(name)
        assert profile is not None, name
        assert (profile["rate-limit"], profile["shared-users"], profile["idle-timeout"]) == (
            rate,
            shared,
            idle,
        )
        assert (profile["address-list"], profile["keepalive-timeout"]) == ("patrons", "5m")
    # Sent as RouterOS's REST API takes it: PUT to the profile table, strings only.
    table = "/rest/ip/hotspot/user/profile"
    puts = [body for method, path, body in router.calls() if (method, path) == ("PUT", table)]
    assert len(puts) == 3
    assert all(isinstance(value, str) for body in puts for value in (body or {}).values())
    # A kind's profile is looked at once: the next member only makes a user.
    asked = len([call for call in router.calls() if call[1].startswith(table)])
    with_policies.issue(make_credential("pmember2", hours=24))
    assert len([call for call in router.calls() if call[1].startswith(table)]) == asked


def test_limit_uptime_is_the_days_minutes_never_past_the_expiry(
    router: FakeRouterOS, with_policies: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    with_policies.issue(make_credential("plong01", hours=24))
    assert uptime(router, "plong01") == 120 * 60
    with_policies.issue(make_credential("pshort1", hours=0.5))
    assert 30 * 60 - 10 <= uptime(router, "pshort1") <= 30 * 60
    guest = dataclasses.replace(make_credential("pguest1", hours=24), kind="guest")
    with_policies.issue(guest)
    assert uptime(router, "pguest1") == 60 * 60
    group = dataclasses.replace(make_credential("pgroup1", hours=3), kind="group")
    with_policies.issue(group)  # no daily limit: the validity
    assert 3 * 3600 - 10 <= uptime(router, "pgroup1") <= 3 * 3600
    # A renewal adds the day's minutes to the time already online.
    with router.state.lock:
        next(u for u in router.state.users.values() if u["name"] == "plong01")["uptime"] = "1h"
    with_policies.renew(make_credential("plong01", password="new-pw-1", hours=24))
    assert uptime(router, "plong01") == 60 * 60 + 120 * 60


def test_a_profile_changed_on_the_router_is_set_back_to_the_policy(
    router: FakeRouterOS, with_policies: MikrotikProvisioner, make_credential: CredentialFactory
) -> None:
    with_policies.issue(make_credential())
    with router.state.lock:
        made = next(p for p in router.state.profiles.values() if p["name"] == "perpustakaan-member")
        made.update({"rate-limit": "10M/10M", "shared-users": "5"})
    with_policies.current()  # reconciliation's first step: profiles are looked at again
    with_policies.issue(make_credential("pother1"))
    (patch,) = [b for m, p, b in router.calls() if m == "PATCH" and "/profile/" in p]
    assert patch == {"rate-limit": "1024k/2048k", "shared-users": "1"}
    assert router.user_profile("perpustakaan-member")["shared-users"] == "1"  # type: ignore[index]


def test_a_missing_base_profile_is_refused_with_its_name(
    router: FakeRouterOS, make_credential: CredentialFactory
) -> None:
    provisioner = MikrotikProvisioner(
        router.url,
        router.user,
        router.password,
        profile="no-such-profile",
        ca_file=str(router.tls.ca_file),
        internet=POLICIES,
    )
    credential: NetworkCredential = make_credential()
    with pytest.raises(CredentialRejected, match="no hotspot user profile 'no-such-profile'"):
        provisioner.issue(credential)
    assert router.usernames() == set()
