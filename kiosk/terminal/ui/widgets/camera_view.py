"""Live camera preview: frames blitted into one texture, a card guide frame, and a box
around a code when it is read."""

from __future__ import annotations

from collections.abc import Sequence

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty
from kivy.uix.widget import Widget

from kiosk.terminal.ui.theme import ACCENT, hex_colour


class CameraView(Widget):
    """Shows RGB frames (HxWx3 uint8, origin top-left) fitted into the widget."""

    show_guide = BooleanProperty(True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._texture: Texture | None = None
        self._frame_size = (0, 0)
        self.frames_shown = 0
        with self.canvas:
            Color(0.11, 0.15, 0.19, 1)
            self._background = Rectangle()
            self._image_colour = Color(1, 1, 1, 0)  # shown from the first frame on
            self._image = Rectangle()
            self._guide_colour = Color(*hex_colour(ACCENT, 0.95))
            self._guide = Line(width=3, rounded_rectangle=(0, 0, 10, 10, 18))
            self._box_colour = Color(*hex_colour("#2BD67B", 0))
            self._box = Line(width=5, close=True, points=[])
        self._fade = None
        self.bind(pos=self._layout, size=self._layout, show_guide=self._layout)

    def show_frame(self, frame) -> None:
        """Blit one frame; the texture is created once per frame size, never per frame."""
        height, width = frame.shape[:2]
        if self._texture is None or self._frame_size != (width, height):
            self._texture = Texture.create(size=(width, height), colorfmt="rgb")
            self._texture.flip_vertical()
            self._frame_size = (width, height)
            self._image.texture = self._texture
            self._image_colour.a = 1
            self._layout()
        self._texture.blit_buffer(frame.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        self.canvas.ask_update()
        self.frames_shown += 1

    def show_read(self, points: Sequence[Sequence[float]], frame_size: Sequence[int]) -> None:
        """Draw a box around the code just read, fading after a second."""
        if len(points) < 2 or not frame_size[0]:
            return
        x0, y0, scale = self._fit(frame_size)
        flat: list[float] = []
        for px, py in points:
            flat += [x0 + px * scale, y0 + (frame_size[1] - py) * scale]
        self._box.points = flat
        self._box_colour.a = 1
        if self._fade is not None:
            self._fade.cancel()
        self._fade = Clock.schedule_once(self._hide_box, 1.2)

    def clear(self) -> None:
        self._box.points = []
        self._box_colour.a = 0

    def _hide_box(self, _dt: float) -> None:
        self._box_colour.a = 0

    def _fit(self, frame_size: Sequence[int]) -> tuple[float, float, float]:
        fw, fh = frame_size
        scale = min(self.width / fw, self.height / fh) if fw and fh else 1.0
        x0 = self.x + (self.width - fw * scale) / 2
        y0 = self.y + (self.height - fh * scale) / 2
        return x0, y0, scale

    def _layout(self, *_args) -> None:
        self._background.pos, self._background.size = self.pos, self.size
        size = self._frame_size if self._frame_size[0] else (16, 9)
        x0, y0, scale = self._fit(size)
        w, h = size[0] * scale, size[1] * scale
        self._image.pos, self._image.size = (x0, y0), (w, h)
        # The guide: a card-shaped frame (ID-1 card, 85.6 x 54 mm) in the middle.
        gw = w * 0.56
        gh = gw * 54 / 85.6
        if gh > h * 0.8:
            gh = h * 0.8
            gw = gh * 85.6 / 54
        self._guide.rounded_rectangle = (x0 + (w - gw) / 2, y0 + (h - gh) / 2, gw, gh, 18)
        self._guide_colour.a = 0.95 if self.show_guide else 0
