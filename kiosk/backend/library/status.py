"""SLiMS's and INLISLite's member words (is_pending, StatusAnggota_id, expiry) in the kiosk's three.

Written down once, beside its test (tests/library/test_library_status.py). The local copy
keeps `blocked` or `active` with the expiry date, so a copy served while the library's
database is down still expires on its day (members.effective_status applies the date).
"""

from __future__ import annotations

from kiosk.protocol import MemberStatus


def slims_stored_status(is_pending: int | None) -> MemberStatus:
    """SLiMS member.is_pending = 1 is 'pending' (no loans): blocked. No other status column."""
    return MemberStatus.blocked if is_pending == 1 else MemberStatus.active


def inlislite_stored_status(status_id: int | None, active_id: int = 3) -> MemberStatus:
    """INLISLite StatusAnggota_id: only 3 (active) is accepted by circulation; 1 new online
    registration, 5 suspended, 6 Bebas Pustaka and the rest are blocked."""
    return MemberStatus.active if status_id == active_id else MemberStatus.blocked
