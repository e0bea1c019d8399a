"""The credential: username and password large and unambiguous, QRs for a phone (the Wi-Fi, and
the login when configured), how to connect, and a countdown that clears the screen."""

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
    login_qr_data = StringProperty("")  # "" unless [library] login_qr_template is set
    expires_at = ObjectProperty(None, allownone=True)  # shown in the patron's language

    def show(self, view) -> None:
        super().show(view)
        credential = view.credential
        if credential is None:
            self._clear()
            return
        app = App.get_running_app()
        self.username_groups = groups(credential.username)
        self.password_groups = groups(credential.password)
        library = app.settings.library
        self.qr_data = library.wifi_qr(credential.username, credential.password)
        self.login_qr_data = library.login_qr(credential.username, credential.password)
        self.expires_at = credential.expires_at

    def on_leave(self, *args) -> None:
        self._clear()

    def _clear(self) -> None:
        self.username_groups, self.password_groups = [], []
        self.qr_data = self.login_qr_data = ""
