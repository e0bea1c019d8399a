"""A QR code drawn from segno's module matrix into a crisp texture (no image files)."""

from __future__ import annotations

import segno
from kivy.graphics.texture import Texture
from kivy.properties import StringProperty
from kivy.uix.image import Image


class QRCode(Image):
    data = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fit_mode = "contain"
        self.bind(data=self._render)

    def _render(self, *_args) -> None:
        if not self.data:
            self.texture = None
            return
        qr = segno.make(self.data, error="m", micro=False)
        border = 4
        matrix = list(qr.matrix)
        size = len(matrix) + 2 * border
        rows = [[255] * size for _ in range(size)]
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    rows[y + border][x + border] = 0
        # Texture rows go bottom-up; RGBA keeps every row 4-byte aligned for OpenGL.
        buffer = bytes(c for row in reversed(rows) for v in row for c in (v, v, v, 255))
        texture = Texture.create(size=(size, size), colorfmt="rgba")
        texture.mag_filter = "nearest"
        texture.min_filter = "nearest"
        texture.blit_buffer(buffer, colorfmt="rgba", bufferfmt="ubyte")
        self.texture = texture
