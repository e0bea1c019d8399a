"""The `mikrotik-rest` provisioner: credentials as hotspot users on a RouterOS v7 router,
through its REST API (/rest/ip/hotspot/user) over HTTPS with basic auth."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import requests

from kiosk.backend.provisioning.base import (
    HIDDEN_PASSWORD,
    CredentialRejected,
    NetworkCredential,
    ProvisioningUnavailable,
)
from kiosk.backend.provisioning.hotspot_policy import (
    profile_fields,
    profile_name,
    uptime_allowed,
)
from kiosk.config import ConfigError, InternetSettings, ProvisioningSettings, Settings

log = logging.getLogger(__name__)

PASSWORD_ENV = "KIOSK_MIKROTIK_PASSWORD"
# A new kind's profile copies the base profile but for these (RouterOS's own or the kind's).
_NOT_COPIED = {".id", "name", "default", "rate-limit", "shared-users", "idle-timeout"}
# Hotspot users the kiosk made carry this comment (and their expiry after it); any other
# user on the router (staff, vouchers) is never changed or removed.
COMMENT_PREFIX = "kiosk-credential"
_COMMENT = re.compile(rf"^{COMMENT_PREFIX}\b")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}

JsonObject = dict[str, Any]


def routeros_duration(seconds: float) -> str:
    """Seconds as a RouterOS time interval ("1d2h3m4s"), rounded up to the second."""
    remaining = max(1, math.ceil(seconds))
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_routeros_duration(text: str) -> int:
    """RouterOS's "1w2d3h4m5s" or "1d02:03:04" in seconds; 0 for anything unreadable."""
    text = text.strip()
    clock = re.search(r"(\d+):(\d\d):(\d\d)$", text)
    seconds = 0
    if clock:
        hours, minutes, secs = (int(g) for g in clock.groups())
        seconds += hours * 3600 + minutes * 60 + secs
        text = text[: clock.start()]
    for count, unit in _DURATION_PART.findall(text):
        seconds += int(count) * _UNIT_SECONDS[unit]
    return seconds


def managed_comment(expires_at: dt.datetime, issued_at: dt.datetime) -> str:
    def stamp(moment: dt.datetime) -> str:
        return moment.astimezone(dt.UTC).strftime(_STAMP)

    return f"{COMMENT_PREFIX} expires={stamp(expires_at)} issued={stamp(issued_at)}"


def comment_time(comment: str, key: str) -> dt.datetime | None:
    """The `key=` time (expires, issued) in a kiosk comment; None when not one of the kiosk's
    comments, absent or unreadable."""
    if not _COMMENT.match(comment):
        return None
    found = re.search(rf"\b{key}=(\S+)", comment)
    if not found:
        return None
    try:
        return dt.datetime.strptime(found.group(1), _STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def is_managed(user: JsonObject) -> bool:
    return bool(_COMMENT.match(str(user.get("comment", ""))))


class MikrotikProvisioner:
    """One hotspot user per credential (name, password, profile, limit-uptime, comment).

    With [internet.*] each kind of patron has a profile of its own ("<profile>-member": speed,
    devices, idle time), made or corrected on first use. A hotspot user has no absolute
    expiry: `limit-uptime` (time online: the day's minutes, never past the expiry) is a
    total, and reconciliation removes expired users (and their active sessions)."""

    name = "mikrotik-rest"
    remote = True  # issue() calls the router

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        profile: str = "default",
        ca_file: str = "",
        timeout: float = 5.0,
        internet: InternetSettings | None = None,
    ) -> None:
        self.internet = internet
        self._profiles_checked: set[str] = set()
        self.root = url.rstrip("/").removesuffix("/rest") + "/rest"
        self.profile = profile
        self.timeout = timeout
        self.session = requests.Session()
        # The router is on the library's LAN: no proxy from the environment, and no
        # REQUESTS_CA_BUNDLE replacing the router's CA (requests lets it override `verify`).
        self.session.trust_env = False
        self.session.auth = (user, password)
        self.session.verify = ca_file or True
        self.session.headers["Accept"] = "application/json"

    @classmethod
    def from_settings(
        cls, settings: ProvisioningSettings, internet: InternetSettings | None = None
    ) -> MikrotikProvisioner:
        router = settings.mikrotik
        if not router.url.startswith("https://"):
            raise ConfigError(
                f"provisioning.mikrotik.url = {router.url!r}: must be https:// (the router's "
                "www-ssl service): basic auth must not cross the network in clear"
            )
        if not router.user:
            raise ConfigError("provisioning.mikrotik.user: required for kind = 'mikrotik-rest'")
        password = router.password or os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise ConfigError(
                f"provisioning.mikrotik.password: empty, and {PASSWORD_ENV} is not set either"
            )
        if router.ca_file and not Path(router.ca_file).is_file():
            raise ConfigError(f"provisioning.mikrotik.ca_file = {router.ca_file!r}: no such file")
        return cls(
            router.url,
            router.user,
            password,
            router.profile,
            router.ca_file,
            router.timeout,
            internet=internet,
        )

    # ------------------------------------------------------------ the interface

    def issue(self, credential: NetworkCredential) -> None:
        self._write(credential)
        log.info("mikrotik-rest issued %s until %s", credential.username, credential.expires_at)

    def renew(self, credential: NetworkCredential) -> None:
        self._write(credential)
        log.info("mikrotik-rest renewed %s until %s", credential.username, credential.expires_at)

    def revoke(self, username: str) -> None:
        user = self._find(username)
        if user is None or not is_managed(user):
            return  # never ours (or already gone): a staff or voucher user stays untouched
        # Removing the user does not end a session already logged in: end those first.
        for session in self._request("GET", "/ip/hotspot/active", params={"user": username}):
            self._request("DELETE", f"/ip/hotspot/active/{session['.id']}", missing_ok=True)
        self._request("DELETE", f"/ip/hotspot/user/{user['.id']}", missing_ok=True)
        log.info("mikrotik-rest revoked %s", username)

    def check(self) -> None:
        self._request("GET", "/system/identity")

    def usernames(self) -> set[str]:
        return set(self.current())

    def current(self) -> dict[str, NetworkCredential]:
        # Each reconciliation starts here: staff may have changed a profile on the router.
        self._profiles_checked.clear()
        users = self._request(
            "GET", "/ip/hotspot/user", params={".proplist": ".id,name,password,comment"}
        )
        never = dt.datetime.fromtimestamp(0, dt.UTC)
        return {
            str(user["name"]): NetworkCredential(
                username=str(user["name"]),
                password=str(user.get("password", HIDDEN_PASSWORD)),
                expires_at=comment_time(str(user.get("comment", "")), "expires") or never,
                issued_at=comment_time(str(user.get("comment", "")), "issued"),
            )
            for user in users
            if is_managed(user)
        }

    def follow(self, settings: Settings) -> None:
        """New policies from the console: each kind's profile is checked again at its next use."""
        self.internet = settings.internet
        self._profiles_checked.clear()

    def close(self) -> None:
        self.session.close()

    # ---------------------------------------------------------------- inside

    def _write(self, credential: NetworkCredential) -> None:
        username = credential.username
        existing = self._find(username)
        if existing is not None and not is_managed(existing):
            raise CredentialRejected(
                f"router {self.root} already has a hotspot user {username!r} the kiosk did not make"
            )
        now = dt.datetime.now(dt.UTC)
        validity = (credential.expires_at - now).total_seconds()
        # limit-uptime counts time online since the user was made: on a renewal the time
        # already used must not eat into the new validity.
        used = parse_routeros_duration(str(existing.get("uptime", ""))) if existing else 0
        allowed = validity
        if self.internet is not None:
            allowed = uptime_allowed(self.internet.for_kind(credential.kind), validity)
        body = {
            "password": credential.password,
            "profile": self._profile(credential.kind),
            "limit-uptime": routeros_duration(allowed + used),
            "comment": managed_comment(credential.expires_at, now),
        }
        if existing is None:
            self._request("PUT", "/ip/hotspot/user", json={"name": username, **body})
        else:
            self._request("PATCH", f"/ip/hotspot/user/{existing['.id']}", json=body)

    def _profile(self, kind: str) -> str:
        """The kind's profile name, made or set to the policy once per reconciliation."""
        if self.internet is None:
            return self.profile
        name = profile_name(self.profile, kind)
        if name in self._profiles_checked:
            return name
        wanted = profile_fields(self.internet.for_kind(kind))
        path = "/ip/hotspot/user/profile"
        found = self._request("GET", path, params={"name": name})
        if not found:
            base = self._request("GET", path, params={"name": self.profile})
            if not base:
                raise CredentialRejected(
                    f"router {self.root}: no hotspot user profile {self.profile!r} "
                    "(set [provisioning.mikrotik] profile to one the router has)"
                )
            copied = {k: v for k, v in base[0].items() if k not in _NOT_COPIED}
            self._request("PUT", path, json={**copied, "name": name, **wanted})
            log.info("mikrotik-rest made profile %s: %s", name, _fields(wanted))
        else:
            changed = {k: v for k, v in wanted.items() if found[0].get(k) != v}
            if changed:
                self._request("PATCH", f"{path}/{found[0]['.id']}", json=changed)
                log.info("mikrotik-rest set profile %s: %s", name, _fields(changed))
        self._profiles_checked.add(name)
        return name

    def _find(self, username: str) -> JsonObject | None:
        users = self._request("GET", "/ip/hotspot/user", params={"name": username})
        return next((u for u in users if u.get("name") == username), None)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: JsonObject | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """One REST call; RouterOS's error bodies ({"error", "message", "detail"}) and
        transport failures become ProvisioningUnavailable (CredentialRejected for a 400)."""
        url = self.root + path
        try:
            response = self.session.request(
                method, url, params=params, json=json, timeout=self.timeout
            )
        except requests.exceptions.SSLError:
            raise ProvisioningUnavailable(
                f"router {self.root}: TLS certificate not trusted "
                "(set [provisioning.mikrotik] ca_file to the router's CA)"
            ) from None
        except requests.RequestException as exc:
            raise ProvisioningUnavailable(
                f"router {self.root}: {method} {path} failed: {type(exc).__name__}"
            ) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise self._error(method, path, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ProvisioningUnavailable(
                f"router {self.root}: {method} {path} answered {response.status_code} "
                "with a body that is not JSON"
            ) from None

    def _error(self, method: str, path: str, response: requests.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("message") or response.reason or "")
        detail = str(body.get("detail") or "")
        text = f"router {self.root}: {method} {path} -> {response.status_code} {message}"
        if detail:
            text += f": {detail}"
        if response.status_code == 401:
            return ProvisioningUnavailable(
                text + " (check [provisioning.mikrotik] user and password)"
            )
        if response.status_code == 400:
            return CredentialRejected(text)
        return ProvisioningUnavailable(text)


def _fields(values: dict[str, str]) -> str:
    return " ".join(f"{key}={value!r}" for key, value in values.items())
