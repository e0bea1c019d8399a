"""Typing the member number on a large on-screen number pad."""

from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets.keypads import NumberPad  # noqa: F401  (used in the .kv)


class KeypadScreen(KioskScreen):
    pass
