"""Welcome: the live camera, "show your member card", and the way to type the number."""

from kiosk.ui.kv import load_kv
from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets.camera_view import CameraView  # noqa: F401  (used in the .kv)

load_kv(__file__)


class WelcomeScreen(KioskScreen):
    pass
