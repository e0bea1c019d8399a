"""Hard generated card frames, as a cheap webcam sees them: module 1.2-4 px, rotation,
perspective tilt, defocus and motion blur, uneven light and glare, low light with noise,
JPEG 40-90, a hand in the frame; and the same camera's frames of the empty room."""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.demo import footage, membercard

HARD_SYMBOLOGIES = ("Code128", "Code39", "Codabar", "EAN13", "QRCode")
SKIN = np.array([196, 150, 122], np.float32)


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


def _motion_blur(frame: np.ndarray, length: float, angle: float) -> np.ndarray:
    size = max(3, int(math.ceil(length)) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    cv2.line(kernel, (round(c - dx * length / 2), round(c - dy * length / 2)),
             (round(c + dx * length / 2), round(c + dy * length / 2)), 1.0, 1)  # fmt: skip
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(frame, -1, kernel))


def _light(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven light (a gradient across the frame) and, sometimes, a glare spot."""
    height, width = frame.shape[:2]
    out = frame.astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    xs, ys = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    ramp = 1.0 + rng.uniform(0.1, 0.45) * (xs * math.cos(angle) + ys * math.sin(angle))
    out *= ramp[..., None].astype(np.float32)
    if rng.random() < 0.4:
        spot = np.zeros((height, width), np.float32)
        centre = (int(rng.uniform(0.3, 0.7) * width), int(rng.uniform(0.3, 0.7) * height))
        axes = (int(rng.uniform(30, 110)), int(rng.uniform(20, 70)))
        cv2.ellipse(spot, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), 18)
        out += spot[..., None] * rng.uniform(80, 200)
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
    frame_rgb: np.ndarray, rng: np.random.Generator, *, hand: tuple[float, float] | None
) -> np.ndarray:
    """A clean RGB frame through a cheap webcam: hand, light, motion blur, JPEG; BGR out."""
    out = frame_rgb.astype(np.float32)
    if hand is not None:
        _hand(out, rng, hand)
    out = _light(out, rng)
    if rng.random() < 0.5:
        out = _motion_blur(out, rng.uniform(2, 7), rng.uniform(0, 180))
    bgr = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    quality = int(rng.integers(40, 91))
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))


def hard_pose(rng: np.random.Generator, width_fraction: float) -> footage.Pose:
    dim = rng.random() < 0.3
    return footage.Pose(
        centre=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.4, 0.6))),
        width_fraction=width_fraction,
        angle=float(rng.uniform(-35, 35)),
        tilt=float(rng.uniform(0, 0.3)),
        blur=float(rng.uniform(0.3, 1.6)),
        brightness=float(rng.uniform(0.25, 0.5) if dim else rng.uniform(0.6, 1.1)),
        noise=float(rng.uniform(5, 10) if dim else rng.uniform(1, 4)),
    )


def hard_card_frames(count: int, seed: int) -> list[tuple[str, str, np.ndarray]]:
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
        module_px = float(rng.uniform(1.2, 4.0))
        pose = hard_pose(rng, width_for_module(card, module_px))
        clean = footage.card_frame(card, pose, seed=seed + i)
        beside = (pose.centre[0] * 1280, pose.width_fraction * 640)
        hand = beside if rng.random() < 0.5 else None
        frames.append((symbology, card.text, camera(clean, rng, hand=hand)))
    return frames


def hard_empty_frames(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        pose = hard_pose(rng, 0.5)
        scene = footage.compose_frame(None, pose, footage.scene_background(seed=seed + i), i)
        frames.append(camera(scene, rng, hand=(640.0, 0.0) if rng.random() < 0.5 else None))
    return frames
