"""Preprocessing for the decoders: the views of a frame (fitted, inverted, upscaled, equalised,
sharpened, deskewed and enlarged crops), each with the affine back to the frame."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

# An image handed to a decoder and the 2x3 affine that maps its pixels back to the frame.
View = tuple[np.ndarray, np.ndarray | None]
Prepare = Callable[[np.ndarray], list[View]]
SMALL_IMAGE = 800  # longest side under which upscaling a whole image is cheap


def as_gray(image: np.ndarray) -> np.ndarray:
    """Greyscale uint8 from grey, BGR or BGRA (OpenCV's channel order)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def prepare_gray(gray: np.ndarray) -> list[View]:
    return [(gray, None)]


def prepare_fit(gray: np.ndarray, max_side: int = 640) -> list[View]:
    """No larger than max_side: the WeChat reader's time grows steeply with image size."""
    scale = max_side / max(gray.shape[:2])
    if scale >= 1.0:
        return [(gray, None)]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return [(small, np.array([[1 / scale, 0, 0], [0, 1 / scale, 0]], np.float32))]


def prepare_invert(gray: np.ndarray) -> list[View]:
    """Light bars on a dark card (pyzbar has no inversion of its own; zxing-cpp has)."""
    return [(cv2.bitwise_not(gray), None)]


def prepare_upscale(gray: np.ndarray) -> list[View]:
    """Twice the size, for small symbols whose modules are one or two pixels wide."""
    if max(gray.shape[:2]) > SMALL_IMAGE:
        return []
    big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    return [(big, np.array([[0.5, 0, 0], [0, 0.5, 0]], np.float32))]


_CLAHE = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8))


def prepare_equalise(gray: np.ndarray) -> list[View]:
    """Local contrast equalisation, for a dim room or a glossy card with a glare."""
    return [(_CLAHE.apply(gray), None)]


def sharpen(gray: np.ndarray, amount: float = 1.0, sigma: float = 1.5) -> np.ndarray:
    """Unsharp mask: restores some of the contrast defocus takes from narrow bars and modules."""
    return np.asarray(
        cv2.addWeighted(gray, 1 + amount, cv2.GaussianBlur(gray, (0, 0), sigma), -amount, 0)
    )


def prepare_sharpen(gray: np.ndarray) -> list[View]:
    """The frame through an unsharp mask, for a slightly defocused card."""
    return [(sharpen(gray), None)]


def prepare_zoom(gray: np.ndarray) -> list[View]:
    """Threefold enlargements, smoothed and sharpened, of the few small regions dense in
    corners (a QR code's modules), for a QR held at arm's length: modules of 1.5-3 px,
    blurred."""
    views: list[View] = []
    height, width = gray.shape[:2]
    for x, y, w, h in textured_regions(gray):
        margin = int(0.3 * max(w, h)) + 8
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
        crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_CUBIC)
        inverse = np.array([[1 / ZOOM, 0, x0], [0, 1 / ZOOM, y0]], np.float32)
        # Smoothing before sharpening: the enlarged noise and JPEG blocks of a dim frame
        # would otherwise be sharpened into modules (it read more, measured, than either).
        views.append((sharpen(cv2.GaussianBlur(crop, (0, 0), 1.2), 1.5, 2.5), inverse))
    return views


ZOOM = 3.0  # enlargement of a small textured region
ZOOM_MAX_SIDE = 260  # px in the frame: a larger region's modules need no enlarging


def textured_regions(gray: np.ndarray, limit: int = 3) -> list[tuple[int, int, int, int]]:
    """Up to `limit` boxes (x, y, w, h in `gray`'s pixels), densest first, where gradients
    run in every direction at once (the smaller eigenvalue of the structure tensor is
    large): a QR code's modules, unlike bars, edges or most of a scene. Found at half size."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1)
    k = 7
    jxx = cv2.boxFilter(gx * gx, -1, (k, k))
    jyy = cv2.boxFilter(gy * gy, -1, (k, k))
    jxy = cv2.boxFilter(gx * gy, -1, (k, k))
    smaller = (jxx + jyy) / 2 - np.sqrt(((jxx - jyy) / 2) ** 2 + jxy * jxy)
    threshold = 0.2 * float(np.percentile(smaller[::2, ::2], 99.9))
    mask = cv2.morphologyEx(
        (smaller > threshold).astype(np.uint8),
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)),
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    found = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < 20 or 2 * max(w, h) > ZOOM_MAX_SIDE:
            continue
        found.append((float(smaller[labels == label].sum()), (2 * x, 2 * y, 2 * w, 2 * h)))
    found.sort(key=lambda item: -item[0])
    return [box for _, box in found[:limit]]


def prepare_deskew(gray: np.ndarray) -> list[View]:
    """Crops around bar-like regions, turned so that their bars stand upright, sharpened.

    zxing-cpp and ZBar read linear codes along rows (and columns): a card held more than a
    few degrees askew has no row crossing every bar. This finds regions of strong,
    coherent gradients (bars), estimates their direction from the structure tensor and
    hands each one over straightened, enlarged when small, through an unsharp mask (which
    read more of the hard frames of docs/benchmarks.md than the plain crop, at no extra
    wrong read).
    """
    return [(sharpen(crop), inverse) for crop, inverse, _ in deskewed_crops(gray)]


Crop = tuple[np.ndarray, np.ndarray, float]
# Rows of a deskewed crop at most: rows through the middle of the bars are enough for the
# decoders, and sharpening and decoding cost grows with the crop.
CROP_HEIGHT = 360
_last_crops: list[tuple[np.ndarray, list[Crop]]] = []  # the last image's, for the next step


def forget_crops() -> None:
    """Drop the remembered crops: the chain calls it per frame, so a camera that refills
    the same array with the next frame is never answered from the previous one."""
    _last_crops.clear()


def deskewed_crops(gray: np.ndarray) -> list[Crop]:
    """(crop with its bars upright, the affine from the crop back to `gray`, the crop's
    enlargement) for each likely linear barcode, best first. Found once per frame: the
    chain's steps are handed the same array, so the next one asking gets them for free."""
    if _last_crops and _last_crops[0][0] is gray:
        return _last_crops[0][1]
    crops = []
    for centre, angle, length, across in barcode_regions(gray):
        scale = min(3.0, max(1.0, 600.0 / max(length, 1.0)))
        out_w = int(min(2400, (length * 1.3 + 40) * scale))
        out_h = int(min(CROP_HEIGHT, (across + 40) * scale))
        matrix = cv2.getRotationMatrix2D(centre, angle, scale)
        matrix[0, 2] += out_w / 2 - centre[0]
        matrix[1, 2] += out_h / 2 - centre[1]
        crop = cv2.warpAffine(
            gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        crops.append((crop, cv2.invertAffineTransform(matrix), scale))
    _last_crops[:] = [(gray, crops)]
    return crops


def barcode_regions(
    gray: np.ndarray, limit: int = 3
) -> list[tuple[tuple[float, float], float, float, float]]:
    """Up to `limit` likely linear barcodes: (centre, gradient angle in degrees, length along
    the bars' normal, extent across), in the pixel coordinates of `gray`, best first."""
    scale = min(1.0, 640.0 / max(gray.shape[:2]))
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    k = max(5, round(min(small.shape[:2]) / 40))
    jxx = cv2.boxFilter(gx * gx, -1, (k, k))
    jyy = cv2.boxFilter(gy * gy, -1, (k, k))
    jxy = cv2.boxFilter(gx * gy, -1, (k, k))
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / (energy + 1e-3)
    threshold = 0.2 * float(np.percentile(energy[::2, ::2], 99.5))  # a quarter is enough
    mask = ((energy > threshold) & (coherence > 0.65)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    # Bridge the gaps a blurred symbol leaves (wide bars merged into one dark block carry no
    # gradient): without it a code is found as two halves, neither readable.
    bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * k + 1, 2 * k + 1))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, bridge)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        if cv2.contourArea(contour) < 4 * k * k:
            continue
        region = np.zeros_like(mask)
        cv2.drawContours(region, [contour], -1, 1, -1)
        sel = region > 0
        sxx, syy, sxy = float(jxx[sel].sum()), float(jyy[sel].sum()), float(jxy[sel].sum())
        theta = 0.5 * math.atan2(2 * sxy, sxx - syy)
        u = np.array([math.cos(theta), math.sin(theta)])
        pts = contour.reshape(-1, 2).astype(np.float64)
        along, across = pts @ u, pts @ np.array([-u[1], u[0]])
        length = float(along.max() - along.min()) / scale
        width = float(across.max() - across.min()) / scale
        if length < 20 or width < 6:
            continue
        centre_small = (along.max() + along.min()) / 2 * u + (
            across.max() + across.min()
        ) / 2 * np.array([-u[1], u[0]])
        centre = (float(centre_small[0]) / scale, float(centre_small[1]) / scale)
        score = float(energy[sel].sum() * coherence[sel].mean())
        found.append((score, (centre, math.degrees(theta), length, width)))
    found.sort(key=lambda item: -item[0])
    return [region for _, region in found[:limit]]
