"""Thank-you, sending, notices and out-of-service: a title, plain words on what to do next, and a
way back (each returns to Welcome by itself too)."""

from __future__ import annotations

from kiosk.terminal.ui.screens import KioskScreen


class ThanksScreen(KioskScreen):
    @staticmethod
    def body_key(view, guest_journey: int) -> str:
        """Why there is no credential, in words that lead somewhere: a guest to membership,
        an expired member to renewal (not to the card), a patron who switched internet off
        to that choice."""
        from kivy.app import App

        if view.journey == guest_journey:
            internet = App.get_running_app().settings.guests.internet
            return "thanks.guest_desk" if internet == "none" else "thanks.body"
        if view.member_status in ("expired", "blocked"):
            return f"thanks.{view.member_status}"
        if view.verification == "card":
            return "thanks.needs_card"
        if view.internet_allowed and not view.want_internet and not view.offline:
            return "thanks.internet_off"
        return "thanks.body"


class SendingScreen(KioskScreen):
    """A guest's entry on its way to the backend (at most the check-in timeout)."""


class NoticeScreen(KioskScreen):
    pass


class OutOfServiceScreen(KioskScreen):
    pass
