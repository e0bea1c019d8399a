"""A patron kind's internet rules ([internet.<kind>]) as FreeRADIUS check and reply attributes."""

from __future__ import annotations

from kiosk.config import InternetPolicy

# The dailycounter module (written by radius_config) compares this with the day's radacct time.
DAILY_LIMIT = "Max-Daily-Session"
Attribute = tuple[str, str, str]  # (name, op, value) as radcheck and radreply hold them


def check_attributes(policy: InternetPolicy) -> list[Attribute]:
    """What FreeRADIUS checks before it accepts: devices online at once, time per day."""
    rows = []
    if policy.devices:
        rows.append(("Simultaneous-Use", ":=", str(policy.devices)))
    if policy.daily_minutes:
        rows.append((DAILY_LIMIT, ":=", str(policy.daily_minutes * 60)))
    return rows


def reply_attributes(policy: InternetPolicy) -> list[Attribute]:
    """What the NAS is told with the Accept: idle time and speed, for MikroTik and WISPr.
    Session-Timeout is not here: expiration and the daily counter each cap it at login."""
    rows = []
    if policy.idle_minutes:
        rows.append(("Idle-Timeout", ":=", str(policy.idle_minutes * 60)))
    if policy.upload_kbps or policy.download_kbps:
        # MikroTik reads rx/tx as the router sees them: rx is what the patron uploads.
        rate = f"{policy.upload_kbps}k/{policy.download_kbps}k"
        rows.append(("Mikrotik-Rate-Limit", ":=", rate))
    if policy.download_kbps:
        rows.append(("WISPr-Bandwidth-Max-Down", ":=", str(policy.download_kbps * 1000)))
    if policy.upload_kbps:
        rows.append(("WISPr-Bandwidth-Max-Up", ":=", str(policy.upload_kbps * 1000)))
    return rows
