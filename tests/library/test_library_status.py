"""How SLiMS's and INLISLite's member words map to the kiosk's (backend/library/status.py)."""

from __future__ import annotations

import datetime as dt

from kiosk.backend.library.members import effective_status as status_on
from kiosk.backend.library.status import (
    inlislite_stored_status,
    slims_stored_status,
    stored_birth_date,
    stored_expiry,
)
from kiosk.protocol import MemberStatus

TODAY = dt.date(2026, 12, 1)


def test_slims_pending_member_is_blocked_and_others_active() -> None:
    assert slims_stored_status(1) is MemberStatus.blocked
    assert slims_stored_status(0) is MemberStatus.active


def test_inlislite_only_status_3_is_active() -> None:
    assert inlislite_stored_status(3) is MemberStatus.active
    for status_id in (1, 2, 4, 5, 6, None):
        assert inlislite_stored_status(status_id) is MemberStatus.blocked
    assert inlislite_stored_status(7, active_id=7) is MemberStatus.active


def test_member_is_active_through_the_expiry_day_and_expired_after() -> None:
    assert status_on("active", TODAY, TODAY) is MemberStatus.active
    yesterday = TODAY - dt.timedelta(days=1)
    assert status_on("active", yesterday, TODAY) is MemberStatus.expired
    assert status_on("active", None, TODAY) is MemberStatus.active


def test_blocked_wins_over_expired() -> None:
    assert status_on("blocked", TODAY - dt.timedelta(days=9), TODAY) is (MemberStatus.blocked)


def test_dates_that_are_not_dates_read_as_the_circulation_desk_orders_them() -> None:
    # pymysql hands what is not a real date over as its text.
    assert stored_expiry("0000-00-00") == dt.date.min
    assert stored_expiry("2027-02-00") == dt.date(2027, 1, 31)
    assert stored_expiry("2027-00-15") == dt.date(2026, 12, 31)
    assert stored_expiry("2028-02-30") == dt.date(2028, 2, 29)  # ALLOW_INVALID_DATES
    assert stored_expiry(dt.date(2027, 1, 31)) == dt.date(2027, 1, 31)
    assert stored_expiry(None) is None
    assert status_on("active", stored_expiry("0000-00-00"), TODAY) is MemberStatus.expired
    last_day = dt.date(2027, 1, 31)
    assert status_on("active", stored_expiry("2027-02-00"), last_day) is MemberStatus.active
    assert stored_birth_date("0000-00-00") is None
    assert stored_birth_date("1990-02-00") is None
    assert stored_birth_date(dt.date(1990, 2, 3)) == dt.date(1990, 2, 3)
