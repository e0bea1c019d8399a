"""Hard generated card frames, as a cheap webcam sees them: module 1.2-4 px, rotation,
perspective tilt, defocus and motion blur, uneven light and glare, low light with noise,
JPEG 40-90, a hand in the frame (drawn from CALIBRATED, see docs/benchmarks.md); and the
same camera's frames of the empty room."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.demo import footage, membercard

HARD_SYMBOLOGIES = ("Code128", "Code39", "Codabar", "EAN13", "QRCode")
SKIN = np.array([196, 150, 122], np.float32)


@dataclass(frozen=True)
class Ranges:
    """How hard the camera is: the ranges each frame's effects are drawn from."""

    module_px: tuple[float, float] = (1.2, 4.0)
    module_mode: float | None = None  # most frequent module size (triangular), or uniform
    angle: float = 35.0  # in-plane rotation, +- degrees
    tilt: tuple[float, float] = (0.0, 0.3)
    defocus: tuple[float, float] = (0.3, 1.6)  # Gaussian sigma, px
    motion_share: float = 0.5
    motion_px: tuple[float, float] = (2.0, 7.0)
    ramp: tuple[float, float] = (0.1, 0.45)  # uneven light: +- gain across the frame
    glare_share: float = 0.4
    glare: tuple[float, float] = (80.0, 200.0)  # grey levels added at the glare's centre
    dim_share: float = 0.3
    dim: tuple[float, float] = (0.25, 0.5)  # brightness in low light
    dim_noise: tuple[float, float] = (5.0, 10.0)
    jpeg: tuple[int, int] = (40, 90)
    hand_share: float = 0.5


FIRST = Ranges()  # the set of 2026-12-01, where zxing-cpp alone read 14.7 %
# Calibrated (docs/benchmarks.md) so that zxing-cpp alone reads about what it read on the
# held-out webcam frames of issue 15 (69.7 %): a card held up to a kiosk is mostly upright
# and at reading distance, so rotation, tilt, blur and motion are milder and modules
# mostly near 3 px, while every effect of the first set is still drawn.
CALIBRATED = Ranges(
    module_mode=3.2,
    angle=10.0,
    tilt=(0.0, 0.12),
    defocus=(0.2, 0.9),
    motion_share=0.25,
    motion_px=(1.5, 3.5),
)


def describe(ranges: Ranges) -> str:
    """The ranges in words, for the benchmark's table heading."""
    r = ranges
    module = f"module {r.module_px[0]:g}-{r.module_px[1]:g} px" + (
        f" (most near {r.module_mode:g})" if r.module_mode else ""
    )
    return (
        f"{module}, rotation +-{r.angle:g} deg, tilt {r.tilt[0]:g}-{r.tilt[1]:g}, defocus "
        f"sigma {r.defocus[0]:g}-{r.defocus[1]:g}, motion blur {r.motion_px[0]:g}-"
        f"{r.motion_px[1]:g} px in {100 * r.motion_share:.0f} %, uneven light, glare in "
        f"{100 * r.glare_share:.0f} %, low light with noise in {100 * r.dim_share:.0f} %, "
        f"JPEG {r.jpeg[0]}-{r.jpeg[1]}, a hand beside the card in {100 * r.hand_share:.0f} %"
    )


def _modules(card: membercard.MemberCard) -> int:
    probe = membercard.barcode_image(card.text, card.symbology, 1, 1)
    return int(probe.shape[0] if card.symbology == "QRCode" else probe.shape[1])


def width_for_module(card: membercard.MemberCard, module_px: float) -> float:
    """The card's width fraction of a 1280 px frame that gives modules of `module_px`."""
    # render_card: symbol 600/856 (linear) or 200/856 (QR) of the face, face warped to
    # the card's width in the frame.
    span = 200.0 if card.symbology == "QRCode" else 600.0
    per_module = span / 856.0 * 1280 / _modules(card)
    return float(np.clip(module_px / per_module, 0.16, 0.92))


_motion_blur = footage.motion_blur


def _light(frame: np.ndarray, rng: np.random.Generator, ranges: Ranges) -> np.ndarray:
    """Uneven light (a gradient across the frame) and, sometimes, a glare spot."""
    height, width = frame.shape[:2]
    out = frame.astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    xs, ys = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    ramp = 1.0 + rng.uniform(*ranges.ramp) * (xs * math.cos(angle) + ys * math.sin(angle))
    out *= ramp[..., None].astype(np.float32)
    if rng.random() < ranges.glare_share:
        spot = np.zeros((height, width), np.float32)
        centre = (int(rng.uniform(0.3, 0.7) * width), int(rng.uniform(0.3, 0.7) * height))
        axes = (int(rng.uniform(30, 110)), int(rng.uniform(20, 70)))
        cv2.ellipse(spot, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), 18)
        out += spot[..., None] * rng.uniform(*ranges.glare)
    return out


def _hand(frame: np.ndarray, rng: np.random.Generator, card: tuple[float, float]) -> None:
    """A hand beside the card (its centre x and half width in pixels), palm and four
    fingers (in place): in the frame, not over the code."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    side = 1 if rng.random() < 0.5 else -1
    x = int(card[0] + side * (card[1] + rng.uniform(90, 160)))
    palm = (x, height - int(rng.uniform(0, 80)))
    cv2.ellipse(mask, palm, (110, 150), rng.uniform(-20, 20), 0, 360, 255, -1)
    for i in range(4):
        top = (palm[0] - 75 + 50 * i, palm[1] - 150 - int(rng.uniform(40, 110)))
        cv2.line(mask, (palm[0] - 75 + 50 * i, palm[1] - 60), top, 255, 34)
    frame[mask > 0] = SKIN * rng.uniform(0.6, 1.05)


def camera(
    frame_rgb: np.ndarray,
    rng: np.random.Generator,
    *,
    hand: tuple[float, float] | None,
    ranges: Ranges = CALIBRATED,
) -> np.ndarray:
    """A clean RGB frame through a cheap webcam: hand, light, motion blur, JPEG; BGR out."""
    out = frame_rgb.astype(np.float32)
    if hand is not None:
        _hand(out, rng, hand)
    out = _light(out, rng, ranges)
    if rng.random() < ranges.motion_share:
        out = _motion_blur(out, rng.uniform(*ranges.motion_px), rng.uniform(0, 180))
    bgr = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    quality = int(rng.integers(ranges.jpeg[0], ranges.jpeg[1] + 1))
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))


def hard_pose(
    rng: np.random.Generator, width_fraction: float, ranges: Ranges = CALIBRATED
) -> footage.Pose:
    dim = rng.random() < ranges.dim_share
    return footage.Pose(
        centre=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.4, 0.6))),
        width_fraction=width_fraction,
        angle=float(rng.uniform(-ranges.angle, ranges.angle)),
        tilt=float(rng.uniform(*ranges.tilt)),
        blur=float(rng.uniform(*ranges.defocus)),
        brightness=float(rng.uniform(*ranges.dim) if dim else rng.uniform(0.6, 1.1)),
        noise=float(rng.uniform(*ranges.dim_noise) if dim else rng.uniform(1, 4)),
    )


def hard_card_frames(
    count: int, seed: int, ranges: Ranges = CALIBRATED
) -> list[tuple[str, str, np.ndarray]]:
    """(symbology, expected text, BGR frame) for `count` hard card frames."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        symbology = HARD_SYMBOLOGIES[i % len(HARD_SYMBOLOGIES)]
        card = membercard.MemberCard(
            member_id=str(19000000 + int(rng.integers(0, 999999))),
            name="Anggota Uji",
            symbology=symbology,
        )
        low, high = ranges.module_px
        mode = ranges.module_mode
        module_px = float(
            rng.uniform(low, high) if mode is None else rng.triangular(low, mode, high)
        )
        pose = hard_pose(rng, width_for_module(card, module_px), ranges)
        clean = footage.card_frame(card, pose, seed=seed + i)
        beside = (pose.centre[0] * 1280, pose.width_fraction * 640)
        hand = beside if rng.random() < ranges.hand_share else None
        frames.append((symbology, card.text, camera(clean, rng, hand=hand, ranges=ranges)))
    return frames


def hard_empty_frames(count: int, seed: int, ranges: Ranges = CALIBRATED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        pose = hard_pose(rng, 0.5, ranges)
        scene = footage.compose_frame(None, pose, footage.scene_background(seed=seed + i), i)
        hand = (640.0, 0.0) if rng.random() < ranges.hand_share else None
        frames.append(camera(scene, rng, hand=hand, ranges=ranges))
    return frames
