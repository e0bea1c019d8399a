"""SLiMS's and INLISLite's member words and dates (is_pending, StatusAnggota_id, expiry) in ours."""

from __future__ import annotations

import calendar
import datetime as dt

from kiosk.protocol import MemberStatus


def slims_stored_status(is_pending: int | None) -> MemberStatus:
    """SLiMS member.is_pending = 1 is 'pending' (no loans): blocked. No other status column."""
    return MemberStatus.blocked if is_pending == 1 else MemberStatus.active


def inlislite_stored_status(status_id: int | None, active_id: int = 3) -> MemberStatus:
    """INLISLite StatusAnggota_id: only 3 (active) is accepted by circulation; 1 new online
    registration, 5 suspended, 6 Bebas Pustaka and the rest are blocked."""
    return MemberStatus.active if status_id == active_id else MemberStatus.blocked


# What MariaDB's default mode lets into a DATE column besides real dates: '0000-00-00'
# (SLiMS's LDAP login writes it) and dates with a zero month or day ('2027-02-00').
# pymysql hands such a value over as its text; a real date comes as a date.
def stored_expiry(value: object) -> dt.date | None:
    """The expiry as the circulation desk reads it. SLiMS compares the dates as text
    (member_base_lib: today <= expire_date) and INLISLite in SQL (EndDate >= today); both
    order by year, month, day, so a member is valid through the last real day at or before
    the stored value: '2027-02-00' through 2027-01-31, '2027-00-15' through 2026-12-31,
    '2027-02-30' through 2027-02-28, and '0000-00-00' never (expired: date.min)."""
    if value is None or isinstance(value, dt.date):
        return value
    year, month, day = _date_parts(value)
    if year == 0:
        return dt.date.min
    if month == 0:
        return dt.date(year - 1, 12, 31)
    month = min(month, 12)
    if day == 0:
        return dt.date(year, month, 1) - dt.timedelta(days=1)
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def stored_birth_date(value: object) -> dt.date | None:
    """A birth date that is not a real date ('0000-00-00', '1990-02-00') is no birth date."""
    return value if isinstance(value, dt.date) else None


def _date_parts(value: object) -> tuple[int, int, int]:
    text = value.decode("ascii") if isinstance(value, bytes) else str(value)
    parts = text.strip().split(" ")[0].split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"not a date: {text!r}")
    year, month, day = (int(part) for part in parts)
    return year, month, day
