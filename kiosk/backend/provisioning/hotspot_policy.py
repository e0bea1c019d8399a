"""A patron kind's internet rules ([internet.<kind>]) as a MikroTik hotspot user profile."""

from __future__ import annotations

from kiosk.config import InternetPolicy


def profile_name(base: str, kind: str) -> str:
    """The kind's profile on the router, made from `[provisioning.mikrotik] profile`."""
    return f"{base}-{kind}"


def profile_fields(policy: InternetPolicy) -> dict[str, str]:
    """What the profile holds for the policy, as RouterOS's REST API writes it (strings):
    rate-limit is rx/tx as the router sees them, so the patron's upload comes first."""
    rate = ""
    if policy.upload_kbps or policy.download_kbps:
        rate = f"{_kbps(policy.upload_kbps)}/{_kbps(policy.download_kbps)}"
    return {
        "rate-limit": rate,
        "shared-users": str(policy.devices) if policy.devices else "unlimited",
        "idle-timeout": f"{policy.idle_minutes}m" if policy.idle_minutes else "none",
    }


def uptime_allowed(policy: InternetPolicy, validity_seconds: float) -> float:
    """Seconds online a new credential may spend: the day's minutes, never past its expiry."""
    if policy.daily_minutes:
        return min(validity_seconds, policy.daily_minutes * 60)
    return validity_seconds


def _kbps(value: int) -> str:
    return f"{value}k" if value else "0"  # RouterOS: 0 is no limit
