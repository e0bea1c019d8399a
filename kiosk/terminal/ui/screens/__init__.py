"""Patron and staff screens: one .py + one .kv each (the App loads the .kv), drawn from
the flow's View."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    """A screen that redraws itself from the flow's current View."""

    view = ObjectProperty(None, allownone=True)

    def show(self, view) -> None:
        self.view = view
