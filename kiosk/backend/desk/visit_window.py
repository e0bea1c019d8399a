"""When a visit may have happened: within [privacy] retention_days, the future taken as now."""

from __future__ import annotations

import datetime as dt


class OccurredAtOutOfRange(ValueError):
    """occurred_at is older than the library keeps visits (answered 422 invalid_request)."""


def check_occurred_at(occurred_at: dt.datetime, now: dt.datetime, retention_days: int) -> None:
    """Refuse a visit older than the retention: it would be purged at once, and a time at
    the start of the calendar is a broken clock or an attack, not a visit."""
    if occurred_at.astimezone(dt.UTC) < now - dt.timedelta(days=retention_days):
        raise OccurredAtOutOfRange(
            f"occurred_at: older than [privacy] retention_days ({retention_days} days); "
            "is the kiosk's clock right?"
        )
