"""Camera footage of a member card: the card held up in a reading-room scene as a 1280x720
webcam sees it (pose, blur, light, noise), gestures of a patron and videos of them."""

from __future__ import annotations

import functools
import math
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from kiosk.demo.membercard import MemberCard, render_card

FRAME_SIZE = (1280, 720)


@dataclass(frozen=True)
class Pose:
    """Where and how the card appears in the frame, and what the camera does to it."""

    centre: tuple[float, float] = (0.5, 0.52)  # fractions of the frame size
    width_fraction: float = 0.55  # card width / frame width
    angle: float = 0.0  # in-plane rotation, degrees, counter-clockwise
    tilt: float = 0.0  # perspective: how much narrower the top edge is (0..0.4)
    blur: float = 0.0  # Gaussian sigma in pixels (focus, motion)
    brightness: float = 1.0  # multiplies the whole frame (dim room < 1)
    noise: float = 2.0  # sensor noise sigma, grey levels


def scene_background(size: tuple[int, int] = FRAME_SIZE, seed: int = 0) -> np.ndarray:
    """An RGB reading-room scene: a wall, bookshelves with spines, a patron's silhouette."""
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([226, 220, 205], np.float32), np.array([170, 160, 145], np.float32)
    scene = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3)).copy()
    shelf_w = width // 5
    for x_start in (0, width - shelf_w):
        scene[:, x_start : x_start + shelf_w] = (92, 64, 44)
        for row in range(4):
            y_top, y_bottom = 40 + row * 170, 40 + row * 170 + 140
            x = x_start + 8
            while x < x_start + shelf_w - 12:
                spine = int(rng.integers(14, 34))
                colour = rng.integers(40, 220, 3)
                top_y = y_top + int(rng.integers(0, 30))
                scene[top_y:y_bottom, x : x + spine - 2] = colour
                x += spine
            scene[y_bottom : y_bottom + 14, x_start : x_start + shelf_w] = (70, 48, 30)
    person = np.zeros((height, width), np.uint8)
    cv2.ellipse(person, (width // 2, round(height * 0.3)), (95, 120), 0, 0, 360, 255, -1)
    cv2.ellipse(person, (width // 2, height + 40), (300, 300), 0, 180, 360, 255, -1)
    scene[person > 0] = scene[person > 0] * 0.35 + np.array([60, 70, 95], np.float32) * 0.65
    scene = cv2.GaussianBlur(scene, (0, 0), 2.5)
    return np.clip(scene, 0, 255).astype(np.uint8)


def card_corners(pose: Pose, card_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The card's four corners in frame pixels (top-left, top-right, bottom-right, bottom-left)."""
    width, height = size
    card_w = pose.width_fraction * width
    card_h = card_w * card_size[1] / card_size[0]
    narrow = pose.tilt * card_w / 2
    local = np.array(
        [
            [-card_w / 2 + narrow, -card_h / 2],
            [card_w / 2 - narrow, -card_h / 2],
            [card_w / 2, card_h / 2],
            [-card_w / 2, card_h / 2],
        ],
        np.float32,
    )
    theta = math.radians(-pose.angle)  # image y grows downwards
    rotation = np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], np.float32
    )
    centre = np.array([pose.centre[0] * width, pose.centre[1] * height], np.float32)
    corners: np.ndarray = local @ rotation.T + centre
    return corners


def compose_frame(
    face: np.ndarray | None,
    pose: Pose,
    background: np.ndarray,
    seed: int = 0,
    *,
    hand: bool = False,
) -> np.ndarray:
    """The background with the card face warped in by `pose` (with `hand`, held by a hand
    at its right edge), then camera blur, dimming and noise; RGB uint8. `face=None` gives
    an empty scene through the same camera."""
    height, width = background.shape[:2]
    frame = background.astype(np.float32)
    if face is not None:
        fh, fw = face.shape[:2]
        source = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
        target = card_corners(pose, (fw, fh), (width, height))
        matrix = cv2.getPerspectiveTransform(source, target)
        mask = np.zeros((fh, fw), np.uint8)
        radius = max(2, fw // 28)
        cv2.rectangle(mask, (radius, 0), (fw - radius, fh), 255, -1)
        cv2.rectangle(mask, (0, radius), (fw, fh - radius), 255, -1)
        for cx, cy in ((radius, radius), (fw - radius, radius), (radius, fh - radius)):
            cv2.circle(mask, (cx, cy), radius, 255, -1, cv2.LINE_AA)
        cv2.circle(mask, (fw - radius, fh - radius), radius, 255, -1, cv2.LINE_AA)
        warped = cv2.warpPerspective(face, matrix, (width, height), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(mask, matrix, (width, height), flags=cv2.INTER_LINEAR)
        a = (alpha.astype(np.float32) / 255.0)[..., None]
        frame = (frame * (1 - a) + warped.astype(np.float32) * a).astype(np.float32)
        _draw_thumb(frame, target)
        if hand:
            _draw_hand(frame, target)
    if pose.blur > 0:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), pose.blur), np.float32)
    frame *= pose.brightness
    if pose.noise > 0:
        rng = np.random.default_rng(seed)
        frame += rng.normal(0.0, pose.noise, (height, width, 1)).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _draw_thumb(frame: np.ndarray, corners: np.ndarray) -> None:
    """A thumb over the middle of the card's left edge, away from the barcode."""
    top_left, bottom_left = corners[0], corners[3]
    edge = bottom_left - top_left
    centre = top_left + edge * 0.42
    length = float(np.linalg.norm(edge))
    angle = math.degrees(math.atan2(float(edge[1]), float(edge[0])))
    thumb = np.zeros(frame.shape[:2], np.uint8)
    axes = (max(4, round(length * 0.2)), max(3, round(length * 0.09)))
    cv2.ellipse(thumb, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 255, -1)
    frame[thumb > 0] = (196, 150, 122)


def _draw_hand(frame: np.ndarray, corners: np.ndarray) -> None:
    """A hand holding the card by its right edge: the palm beside the card, four fingers
    reaching over the edge (onto the card's margin, short of the code's quiet zone)."""
    top_right, bottom_right, top_left = corners[1], corners[2], corners[0]
    down = bottom_right - top_right
    height = float(np.linalg.norm(down))
    outward = (top_right - top_left) / max(float(np.linalg.norm(top_right - top_left)), 1.0)
    mask = np.zeros(frame.shape[:2], np.uint8)
    palm = top_right + down * 0.6 + outward * height * 0.55
    angle = math.degrees(math.atan2(float(down[1]), float(down[0])))
    axes = (max(4, round(height * 0.55)), max(4, round(height * 0.42)))
    cv2.ellipse(mask, (round(palm[0]), round(palm[1])), axes, angle, 0, 360, 255, -1)
    finger = max(3, round(height * 0.07))
    for share in (0.2, 0.38, 0.56, 0.74):
        root = top_right + down * share + outward * height * 0.3
        tip = top_right + down * share - outward * height * 0.12
        cv2.line(mask, (round(root[0]), round(root[1])), (round(tip[0]), round(tip[1])), 255,
                 finger)  # fmt: skip
    frame[mask > 0] = (188, 142, 116)


def card_frame(
    card: MemberCard,
    pose: Pose | None = None,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
    background: np.ndarray | None = None,
) -> np.ndarray:
    """One RGB camera frame of `card` held up in front of the reading-room scene."""
    pose = pose or Pose()
    if background is None:
        background = scene_background(size, seed)
    face_width = max(200, round(pose.width_fraction * size[0] * 1.25))
    return compose_frame(render_card(card, face_width), pose, background, seed)


@dataclass(frozen=True)
class Sequence:
    """A patron's gesture: nothing, the card comes in, is held still-ish, goes away."""

    empty_before: int = 20
    entering: int = 8
    held: int = 30
    leaving: int = 8
    empty_after: int = 20
    pose: Pose = field(default_factory=lambda: Pose(angle=4.0, tilt=0.05, blur=0.6))
    # Where the card goes when taken away (fractions of the frame added to the centre at
    # the end: x grows as t squared, y as t), and, with `shutter` (the share of a frame's
    # interval the shutter is open), a motion blur along its path instead of a defocus.
    exit_to: tuple[float, float] = (0.8, -0.1)
    shutter: float = 0.0
    hand: bool = False  # a hand holding the card by its right edge


def sequence_frames(
    card: MemberCard,
    sequence: Sequence | None = None,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
) -> Iterator[np.ndarray]:
    """The RGB frames of `sequence`: the card slides in from below-right, trembles slightly
    while held, and slides out to the right."""
    seq = sequence or Sequence()
    background = scene_background(size, seed)
    face = render_card(card, max(200, round(seq.pose.width_fraction * size[0] * 1.25)))
    rng = np.random.default_rng(seed + 1)
    still = seq.pose
    frame_no = 0

    def shot(face_or_none: np.ndarray | None, pose: Pose) -> np.ndarray:
        nonlocal frame_no
        frame_no += 1
        return compose_frame(
            face_or_none, pose, background, seed * 100_003 + frame_no, hand=seq.hand
        )

    for _ in range(seq.empty_before):
        yield shot(None, still)
    for i in range(seq.entering):
        t = (i + 1) / (seq.entering + 1)
        offset = (1 - t) ** 2
        yield shot(
            face,
            replace(
                still,
                centre=(still.centre[0] + 0.7 * offset, still.centre[1] + 0.5 * offset),
                angle=still.angle + 25 * offset,
                blur=still.blur + 6 * offset,
            ),
        )
    for _ in range(seq.held):
        jx, jy, ja = rng.normal(0, (0.004, 0.004, 0.6))
        yield shot(
            face,
            replace(
                still, centre=(still.centre[0] + jx, still.centre[1] + jy), angle=still.angle + ja
            ),
        )
    width, height = size
    previous = still.centre
    for i in range(seq.leaving):
        t = (i + 1) / (seq.leaving + 1)
        centre = (still.centre[0] + seq.exit_to[0] * t * t, still.centre[1] + seq.exit_to[1] * t)
        pose = replace(still, centre=centre, angle=still.angle - 15 * t)
        if seq.shutter <= 0:
            yield shot(face, replace(pose, blur=still.blur + 6 * t))
            continue
        dx, dy = (centre[0] - previous[0]) * width, (centre[1] - previous[1]) * height
        previous = centre
        frame = shot(face, pose)
        angle = math.degrees(math.atan2(dy, dx))
        yield motion_blur(frame, seq.shutter * math.hypot(dx, dy), angle)
    for _ in range(seq.empty_after):
        yield shot(None, still)


def motion_blur(frame: np.ndarray, length: float, angle: float) -> np.ndarray:
    """`frame` smeared over `length` pixels in the direction `angle` (degrees, image axes):
    what a card moving while the shutter is open leaves on the sensor."""
    size = max(3, int(math.ceil(length)) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    cv2.line(kernel, (round(c - dx * length / 2), round(c - dy * length / 2)),
             (round(c + dx * length / 2), round(c + dy * length / 2)), 1.0, 1)  # fmt: skip
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(frame, -1, kernel))


@functools.cache
def video_codec() -> tuple[str, str]:
    """The (fourcc, suffix) this OpenCV build can both write and read back: mp4v in .mp4
    (small) where it round-trips, else Motion-JPEG in .avi (OpenCV's own writer)."""
    for fourcc, suffix in (("mp4v", ".mp4"), ("MJPG", ".avi")):
        with tempfile.TemporaryDirectory() as folder:
            probe = str(Path(folder) / f"probe{suffix}")
            writer = cv2.VideoWriter(probe, cv2.VideoWriter.fourcc(*fourcc), 15.0, (64, 48))
            if not writer.isOpened():
                writer.release()
                continue
            for shade in (0, 128):
                writer.write(np.full((48, 64, 3), shade, np.uint8))
            writer.release()
            capture = cv2.VideoCapture(probe)
            ok = capture.read()[0] and capture.read()[0]
            capture.release()
            if ok:
                return fourcc, suffix
    raise OSError("this OpenCV build can write no video it can read back (mp4v, MJPG)")


def write_video(path: Path | str, frames: Iterable[np.ndarray], fps: float = 15.0) -> Path:
    """Write RGB frames to a video OpenCV reads back (see video_codec); returns the path."""
    fourcc, _ = video_codec()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    writer: cv2.VideoWriter | None = None
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(
                    str(target), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height)
                )
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write {fourcc} video to {target}")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError("no frames to write")
    return target


def write_card_video(
    path: Path | str,
    cards: Iterable[MemberCard],
    sequence: Sequence | None = None,
    *,
    fps: float = 15.0,
    size: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
) -> Path:
    """A video of each card in turn going through `sequence` (cards shown one after another)."""

    def frames() -> Iterator[np.ndarray]:
        for i, card in enumerate(cards):
            yield from sequence_frames(card, sequence, size=size, seed=seed + i)

    return write_video(path, frames(), fps)
