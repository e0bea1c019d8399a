"""Welcome: the live camera, "show your member card", and the way to type the number; on a
keypad-only kiosk (`camera = "none"`) the number pad itself in the camera's place."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty

from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.camera_view import CameraView  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.keypads import NumberPad


class WelcomeScreen(KioskScreen):
    keypad_only = BooleanProperty(False)

    def show(self, view) -> None:
        super().show(view)
        # What the kiosk was started with (`--camera none` overrides the file's setting).
        keypad_only = App.get_running_app().services.keypad_only
        if keypad_only != self.keypad_only:
            self.keypad_only = keypad_only
            self._place_pad_or_camera()

    def on_touch_down(self, touch) -> bool:
        # Someone is at the kiosk: the card of the journey that just ended counts again.
        if self.collide_point(*touch.pos):
            app = App.get_running_app()
            app.act(app.flow.touch)
        return bool(super().on_touch_down(touch))

    def _place_pad_or_camera(self) -> None:
        holder = self.ids.holder
        # kv ids are weak: keep the camera view alive while it is off the screen.
        self._camera_view = getattr(self, "_camera_view", None) or self.ids.camera.__self__
        holder.clear_widgets()
        if not self.keypad_only:
            holder.add_widget(self._camera_view)
            return
        # The words first, then the pad (as on the keypad screen): read, then type.
        parent = holder.parent
        parent.remove_widget(holder)
        parent.add_widget(holder, index=0)
        app = App.get_running_app()
        pad = NumberPad(spacing=10 * app.u, font_px=52 * app.u)
        pad.back_label = app.tr("keypad.back", app.language)
        app.bind(language=lambda _a, lang: setattr(pad, "back_label", app.tr("keypad.back", lang)))
        pad.bind(on_key=lambda _p, key: self.type_first(key))
        self.pad = pad
        holder.add_widget(pad)

    def type_first(self, key: str) -> None:
        """A key on Welcome's pad: the keypad screen opens with that digit typed."""
        app = App.get_running_app()
        app.act(app.flow.keypad_open)
        if key != "back":
            app.act(app.flow.keypad_press, key)
