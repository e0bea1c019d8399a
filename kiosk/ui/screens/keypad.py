"""Typing the member number on a large on-screen number pad."""

from kiosk.ui.kv import load_kv
from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets.keypads import NumberPad  # noqa: F401  (used in the .kv)

load_kv(__file__)


class KeypadScreen(KioskScreen):
    pass
