"""The building blocks the .kv files style: buttons, banners and panels with colour
properties (declared here so canvas rules see real colours from the first frame)."""

from __future__ import annotations

from kivy.properties import ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

from kiosk.ui.theme import ON_PRIMARY, PRIMARY, WARNING_BG, hex_colour


class FlatButton(Button):
    bg = ColorProperty(hex_colour(PRIMARY))
    fg = ColorProperty(hex_colour(ON_PRIMARY))
    border_colour = ColorProperty((0, 0, 0, 0))
    font_px = NumericProperty(34)


class PrimaryButton(FlatButton):
    pass


class SecondaryButton(FlatButton):
    pass


class Banner(Label):
    bg = ColorProperty(hex_colour(WARNING_BG))


class MessageLayout(BoxLayout):
    band = ColorProperty(hex_colour(PRIMARY))
    title = StringProperty("")
    body = StringProperty("")
    footer = StringProperty("")
    button = StringProperty("")
