"""The chain's steps for hard frames: enlarged QR-like regions, deblurred bar profiles,
zxing-cpp's quick first pass, and crops found once per frame, never from a previous one."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.config import ScannerSettings
from kiosk.demo import footage, membercard
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.commands import IMAGE_BUDGET_MS
from kiosk.terminal.scanner.deblur import box_kernel, prepare_deblur, richardson_lucy
from kiosk.terminal.scanner.decoders import Points, ZxingDecoder
from kiosk.terminal.scanner.preprocessing import prepare_zoom

LINEAR = ["Codabar", "Code128", "Code39", "EAN13", "ITF"]


def _gray(card: membercard.MemberCard, pose: footage.Pose) -> np.ndarray:
    return cv2.cvtColor(footage.card_frame(card, pose, seed=1), cv2.COLOR_RGB2GRAY)


def _on_card(points: Points, pose: footage.Pose) -> bool:
    card_size = (1000, round(1000 / membercard.CARD_ASPECT))
    outline = footage.card_corners(pose, card_size, footage.FRAME_SIZE).reshape(-1, 1, 2)
    return bool(points) and all(cv2.pointPolygonTest(outline, p, True) > -3 for p in points)


def _motion_blur(gray: np.ndarray, length: float) -> np.ndarray:
    """A horizontal smear of `length` px, as a card moved while the shutter was open."""
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    cv2.line(kernel, (round(centre - length / 2), centre), (round(centre + length / 2), centre), 1)
    return np.asarray(cv2.filter2D(gray, -1, kernel / kernel.sum()))


def test_a_small_blurred_qr_is_read_from_its_enlargement(
    scanner_settings: ScannerSettings,
) -> None:
    card = membercard.MemberCard(symbology="QRCode")
    pose = footage.Pose(width_fraction=0.16, angle=4, blur=0.8)
    gray = _gray(card, pose)
    assert ZxingDecoder(["QRCode"]).decode(gray) == []  # modules of 1.6 px, blurred
    result = build_chain(scanner_settings).decode(gray, IMAGE_BUDGET_MS)
    assert [s.text for s in result.symbols] == [card.text]
    assert result.steps[-1] == "zxing-cpp+zoom"
    assert _on_card(result.symbols[0].points, pose)  # mapped back from the enlargement


def test_zoom_finds_nothing_to_enlarge_in_an_empty_room() -> None:
    scene = footage.compose_frame(None, footage.Pose(), footage.scene_background(seed=3), 3)
    gray = cv2.cvtColor(scene, cv2.COLOR_RGB2GRAY)
    decoder = ZxingDecoder(["QRCode", *LINEAR])
    assert [s for view, _ in prepare_zoom(gray) for s in decoder.decode(view)] == []


def test_richardson_lucy_undoes_a_box_blur_of_bars() -> None:
    modules = np.array([0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 5, np.float64)
    bars = np.repeat(40 + 180 * modules, 6)  # modules of 6 px
    blurred = np.convolve(bars, box_kernel(9), mode="same")
    restored = richardson_lucy(blurred, box_kernel(9))
    inner = slice(30, -30)
    assert np.abs(restored - bars)[inner].mean() < 0.75 * np.abs(blurred - bars)[inner].mean()


def test_deblurred_profiles_of_a_smeared_card_read_and_map_back_onto_it() -> None:
    card = membercard.MemberCard(symbology="Codabar")
    pose = footage.Pose(width_fraction=0.36, angle=1, blur=0.4, noise=3)
    gray = _motion_blur(_gray(card, pose), 3.0)
    decoder = ZxingDecoder(LINEAR, try_rotate=False, try_downscale=False)
    found = []
    for view, inverse in prepare_deblur(gray):
        for symbol in decoder.decode(view):
            corners = np.array(symbol.points, np.float32).reshape(-1, 1, 2)
            mapped = cv2.transform(corners, inverse).reshape(-1, 2)
            found.append((symbol.text, tuple((float(x), float(y)) for x, y in mapped)))
    assert found and {text for text, _ in found} == {card.text}
    assert all(_on_card(points, pose) for _, points in found)


def test_the_first_pass_skips_zxing_retries_and_a_sideways_card_is_still_read(
    scanner_settings: ScannerSettings,
) -> None:
    card = membercard.MemberCard(symbology="Code128")
    pose = footage.Pose(angle=90, width_fraction=0.45, blur=0.5)
    result = build_chain(scanner_settings).decode(_gray(card, pose), IMAGE_BUDGET_MS)
    assert [s.text for s in result.symbols] == [card.text]
    assert result.steps[0] == "zxing-cpp" and result.steps[-1] != "zxing-cpp"


def test_a_camera_refilling_the_same_array_is_never_answered_from_the_last_frame(
    scanner_settings: ScannerSettings,
) -> None:
    # Askew enough that the first pass misses it and the deskewed crops read it.
    card = membercard.MemberCard(symbology="Code128")
    frame = _gray(card, footage.Pose(angle=40, width_fraction=0.4, blur=0.6))
    chain = build_chain(scanner_settings)
    first = chain.decode(frame, IMAGE_BUDGET_MS)
    assert [s.text for s in first.symbols] == [card.text]
    assert first.steps[-1] == "zxing-cpp+deskew"
    empty = footage.compose_frame(None, footage.Pose(), footage.scene_background(seed=5), 5)
    frame[:] = cv2.cvtColor(empty, cv2.COLOR_RGB2GRAY)  # the same buffer, the next frame
    assert chain.decode(frame, IMAGE_BUDGET_MS).symbols == []
