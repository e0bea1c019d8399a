"""What the kiosk tells staff about the library's own database (SLiMS, INLISLite), read from
the backend's health answer: whether it answers and how many visits wait to be written."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.terminal.client import Health


@dataclass(frozen=True)
class LibraryState:
    system: str  # 'slims' or 'inlislite'
    answers: bool
    detail: str  # the backend's reason when it does not answer
    waiting: int  # visits waiting to be written to the library's guestbook table
    failed: int  # visits the library's database kept refusing (set aside for staff)

    @property
    def label(self) -> str:
        """The system's name as librarians write it."""
        return {"slims": "SLiMS", "inlislite": "INLISLite"}.get(self.system, self.system)


def library_state(health: Health) -> LibraryState | None:
    """None when members come from the local CSV table, or the backend did not answer."""
    if health.library is None:
        return None
    system, _, state = health.library.partition(": ")
    return LibraryState(
        system=system,
        answers=state == "ok",
        detail="" if state == "ok" else state,
        waiting=health.writeback_waiting or 0,
        failed=health.writeback_failed or 0,
    )
