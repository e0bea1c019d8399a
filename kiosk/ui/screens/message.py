"""Thank-you, notices and out-of-service: a title, plain words on what to do next, and a
way back (each returns to Welcome by itself too)."""

from __future__ import annotations

from kiosk.ui.screens import KioskScreen


class ThanksScreen(KioskScreen):
    pass


class NoticeScreen(KioskScreen):
    pass


class OutOfServiceScreen(KioskScreen):
    pass
