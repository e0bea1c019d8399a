"""Motion deblurring of a linear symbol: its profile across the bars, deconvolved for a few
blur lengths, handed to a decoder as a short image of upright bars."""

from __future__ import annotations

import numpy as np

from kiosk.terminal.scanner.preprocessing import View, deskewed_crops

# Lengths of the motion blur undone, in frame pixels: a card moving while the shutter is
# open smears each bar over 2-5 px of a 720p webcam frame.
BLUR_LENGTHS = (2.5, 3.5, 4.5)
ITERATIONS = 30  # Richardson-Lucy; the profile has a few hundred samples, so this is cheap


def prepare_deblur(gray: np.ndarray) -> list[View]:
    """For each likely linear barcode, its averaged profile across the bars deconvolved by
    box blurs of BLUR_LENGTHS (scaled to the crop), as images of the bars alone."""
    views: list[View] = []
    for crop, inverse, scale in deskewed_crops(gray):
        top, bottom = bar_rows(crop)
        profile = crop[top:bottom].astype(np.float64).mean(axis=0)
        # The view's rows are the crop's rows top..bottom: map them back through the crop.
        to_frame = inverse @ np.array([[1, 0, 0], [0, 1, top], [0, 0, 1]], np.float64)
        for length in BLUR_LENGTHS:
            sharp = richardson_lucy(profile, box_kernel(length * scale))
            views.append((as_bars(sharp, bottom - top), to_frame.astype(np.float32)))
    return views


def bar_rows(crop: np.ndarray) -> tuple[int, int]:
    """The rows of `crop` through the middle of its bars: those whose horizontal contrast is
    at least half the strongest row's, without their outer fifths (the bars' ends)."""
    contrast = np.abs(np.diff(crop.astype(np.float32), axis=1)).sum(axis=1)
    contrast = np.convolve(contrast, np.ones(5) / 5, mode="same")
    peak = int(contrast.argmax())
    strong = contrast > 0.5 * contrast[peak]
    top = peak
    while top > 0 and strong[top - 1]:
        top -= 1
    bottom = peak + 1
    while bottom < len(strong) and strong[bottom]:
        bottom += 1
    trim = (bottom - top) // 5
    return top + trim, max(top + trim + 1, bottom - trim)


def box_kernel(length: float) -> np.ndarray:
    width = max(1, round(length))
    return np.full(width, 1.0 / width)


def richardson_lucy(profile: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """`profile` deconvolved by `kernel` (Richardson-Lucy: stays positive, no ringing to
    speak of at this few iterations)."""
    observed = np.maximum(profile, 1.0)
    estimate = observed.copy()
    mirrored = kernel[::-1]
    for _ in range(ITERATIONS):
        blurred = np.convolve(estimate, kernel, mode="same")
        estimate *= np.convolve(observed / np.maximum(blurred, 1e-3), mirrored, mode="same")
    return estimate


def as_bars(profile: np.ndarray, rows: int) -> np.ndarray:
    """`profile` stretched to 0..255 (1st to 99th percentile) and repeated over `rows`."""
    low, high = np.percentile(profile, (1, 99))
    line = np.clip((profile - low) / max(float(high - low), 1.0) * 255, 0, 255)
    return np.tile(line.astype(np.uint8), (max(rows, 8), 1))
