"""Which screen shows each state of the patron session, and the screens the app builds."""

from __future__ import annotations

from typing import Any

from kiosk.config import Settings
from kiosk.terminal.session.patron_session import State
from kiosk.terminal.ui.kv import load_kv

SCREEN_FOR_STATE = {
    State.idle: "welcome",
    State.looking_up: "welcome",
    State.keypad: "keypad",
    State.guestbook: "guestbook",
    State.checking_in: "guestbook",
    State.birth_date: "birth_date",
    State.guest: "guest",
    State.sending_guest: "sending",
    State.credentials: "credentials",
    State.thanks: "thanks",
    State.notice: "notice",
    State.out_of_service: "out_of_service",
    State.survey: "survey",
}


def build_screens(settings: Settings) -> dict[str, Any]:
    """Every screen by name, their .kv rules loaded (again after a test unloaded them)."""
    from kiosk.terminal.ui.screens import (
        birth_date,
        credentials,
        guest,
        guestbook,
        keypad,
        maintenance,
        message,
        setup,
        survey,
        welcome,
    )

    for module in (
        welcome,
        keypad,
        birth_date,
        guestbook,
        guest,
        credentials,
        message,
        maintenance,
        survey,
        setup,
    ):
        load_kv(str(module.__file__))
    return {
        "welcome": welcome.WelcomeScreen(),
        "keypad": keypad.KeypadScreen(),
        "birth_date": birth_date.BirthDateScreen(),
        "guestbook": guestbook.GuestbookScreen(settings.guestbook.fields, name="guestbook"),
        "guest": guest.GuestScreen(),
        "sending": message.SendingScreen(),
        "credentials": credentials.CredentialsScreen(),
        "thanks": message.ThanksScreen(),
        "notice": message.NoticeScreen(),
        "out_of_service": message.OutOfServiceScreen(),
        "survey": survey.SurveyScreen(),
        "pin": maintenance.PinScreen(),
        "maintenance": maintenance.MaintenanceScreen(),
        "setup": setup.SetupScreen(),
    }
