"""The mapping of SLiMS's and INLISLite's member words to the kiosk's (library_status.py)."""

from __future__ import annotations

import datetime as dt

from kiosk.backend.library.inlislite import inlislite_stored_status
from kiosk.backend.library.members import effective_status as status_on
from kiosk.backend.library.slims import slims_stored_status
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
