"""Thank-you, sending, notices and out-of-service: a title, plain words on what to do next, and a
way back (each returns to Welcome by itself too)."""

from __future__ import annotations

from kiosk.terminal.ui.screens import KioskScreen


class ThanksScreen(KioskScreen):
    pass


class SendingScreen(KioskScreen):
    """A guest's entry on its way to the backend (at most the check-in timeout)."""


class NoticeScreen(KioskScreen):
    pass


class OutOfServiceScreen(KioskScreen):
    pass
