"""The credential: username and password large and unambiguous, a QR for a phone, how to
connect, and a countdown that clears the screen."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import ListProperty, ObjectProperty, StringProperty

from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.qr import QRCode  # noqa: F401  (used in the .kv)


def groups(text: str, size: int = 4) -> list[str]:
    """ "k7pa3mwr9x" -> ["k7pa", "3mw", "r9x"]: read aloud in chunks of at most `size`, as
    even as they come (no lone last character), shown as separate tiles, typed without."""
    if not text:
        return []
    count = -(-len(text) // size)
    base, extra = divmod(len(text), count)
    parts, start = [], 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        parts.append(text[start:end])
        start = end
    return parts


class CredentialsScreen(KioskScreen):
    username_groups = ListProperty([])
    password_groups = ListProperty([])
    qr_data = StringProperty("")
    expires_at = ObjectProperty(None, allownone=True)  # shown in the patron's language

    def show(self, view) -> None:
        super().show(view)
        credential = view.credential
        if credential is None:
            self.username_groups, self.password_groups, self.qr_data = [], [], ""
            return
        app = App.get_running_app()
        self.username_groups = groups(credential.username)
        self.password_groups = groups(credential.password)
        library = app.settings.library
        self.qr_data = library.qr_template.format(
            ssid=library.wifi_ssid,
            username=credential.username,
            password=credential.password,
            login_url=library.login_url,
        )
        self.expires_at = credential.expires_at

    def on_leave(self, *args) -> None:
        self.username_groups, self.password_groups, self.qr_data = [], [], ""
