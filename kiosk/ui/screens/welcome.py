"""Welcome: the live camera, "show your member card", and the way to type the number."""

from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets.camera_view import CameraView  # noqa: F401  (used in the .kv)


class WelcomeScreen(KioskScreen):
    pass
