"""Makes the small generated assets: the demo library logo and the card-read sound.

Run from the repository root: .venv/bin/python scripts/make_assets.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import cv2
import numpy as np

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def logo(path: Path, size: int = 256) -> None:
    """An open book on a white disc: a neutral emblem until the library sets its own."""
    image = np.zeros((size, size, 4), np.uint8)
    centre = (size // 2, size // 2)
    cv2.circle(image, centre, size // 2 - 4, (255, 255, 255, 255), -1, cv2.LINE_AA)
    blue = (122, 93, 11, 255)  # BGR of #0B5D7A
    gold = (61, 179, 242, 255)
    left = np.array([[58, 92], [124, 80], [124, 182], [58, 192]], np.int32)
    right = np.array([[132, 80], [198, 92], [198, 192], [132, 182]], np.int32)
    cv2.fillPoly(image, [left, right], blue, cv2.LINE_AA)
    for y in (110, 130, 150):
        cv2.line(image, (72, y), (112, y - 6), (255, 255, 255, 255), 5, cv2.LINE_AA)
        cv2.line(image, (144, y - 6), (184, y), (255, 255, 255, 255), 5, cv2.LINE_AA)
    cv2.ellipse(image, (128, 70), (22, 22), 0, 200, 340, gold, 8, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def chime(path: Path, rate: int = 22050) -> None:
    """Two short rising tones: 'card read'."""
    samples: list[int] = []
    for freq, length in ((880, 0.07), (1320, 0.11)):
        n = int(rate * length)
        for i in range(n):
            envelope = min(1.0, i / 200) * min(1.0, (n - i) / 600)
            samples.append(int(12000 * envelope * math.sin(2 * math.pi * freq * i / rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


if __name__ == "__main__":
    (ASSETS / "sounds").mkdir(parents=True, exist_ok=True)
    logo(ASSETS / "logo.png")
    chime(ASSETS / "sounds" / "read.wav")
    print("assets written")
