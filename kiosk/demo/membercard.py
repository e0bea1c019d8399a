"""Synthetic library member cards: the printed face (library band, photo, name, number and the
barcode in any symbology a library card carries), as an RGB image; never imports Kivy."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from kiosk.terminal.scanner.checksums import gtin_valid

# Symbologies a library card may carry (zxing-cpp BarcodeFormat names).
SYMBOLOGIES = ("Codabar", "Code128", "Code39", "EAN13", "ITF", "QRCode")
CARD_ASPECT = 85.6 / 54.0  # ISO/IEC 7810 ID-1, the size of a bank card
LIBRARY_NAME = "Perpustakaan Provinsi Kepulauan Bangka Belitung"

RGB = tuple[int, int, int]


def gtin_complete(digits: str) -> str:
    """EAN/UPC/ITF-14 data digits followed by the check digit that makes them valid."""
    return next(digits + d for d in "0123456789" if gtin_valid(digits + d))


def card_payload(member_id: str, symbology: str) -> str:
    """The text a card of `symbology` carries for `member_id`, as libraries print them.

    Codabar wraps the number in start/stop letters (A...B); EAN-13 needs 12 digits and a
    check digit, so the number becomes an in-store code starting with 2; ITF needs an even
    number of digits.
    """
    if symbology == "Codabar":
        return f"A{member_id}B"
    if symbology == "EAN13":
        digits = member_id if len(member_id) == 12 else ("2" + member_id.zfill(11))[-12:]
        return gtin_complete(digits)
    if symbology == "ITF":
        return member_id if len(member_id) % 2 == 0 else "0" + member_id
    if symbology == "Code39":
        return member_id.upper()
    return member_id


def barcode_image(payload: str, symbology: str, module_px: int, bar_height: int) -> np.ndarray:
    """A crisp black-on-white symbol (grey uint8) with whole-pixel modules, no quiet zone."""
    barcode = zxingcpp.create_barcode(payload, getattr(zxingcpp.BarcodeFormat, symbology))
    modules = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False), dtype=np.uint8)
    if symbology == "QRCode":
        return cv2.resize(
            modules,
            (modules.shape[1] * module_px, modules.shape[0] * module_px),
            interpolation=cv2.INTER_NEAREST,
        )
    row = np.repeat(modules[modules.shape[0] // 2], module_px)
    return np.tile(row, (bar_height, 1))


def _put_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    height_px: float,
    colour: RGB,
    *,
    bold: bool = False,
    max_width: int | None = None,
) -> int:
    """Draw `text` with its baseline at origin, about height_px tall; returns its width."""
    font = cv2.FONT_HERSHEY_DUPLEX
    scale = height_px / 22.0
    thickness = max(1, round(height_px / (9 if bold else 14)))
    (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    if max_width is not None and width > max_width:
        scale *= max_width / width
        (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(image, text, origin, font, scale, colour, thickness, cv2.LINE_AA)
    return int(width)


def _wrap(text: str, limit: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@dataclass(frozen=True)
class MemberCard:
    """What is printed on a card; `payload` overrides the barcode text (e.g. a book's ISBN)."""

    member_id: str = "19000123"
    name: str = "Siti Aminah"
    symbology: str = "Codabar"
    library: str = LIBRARY_NAME
    colour: RGB = (0, 105, 92)
    payload: str | None = None
    # Light bars on a dark card, as some libraries print them.
    light_on_dark: bool = False

    @property
    def text(self) -> str:
        return (
            self.payload
            if self.payload is not None
            else card_payload(self.member_id, self.symbology)
        )


def render_card(card: MemberCard, width: int = 856) -> np.ndarray:
    """The card face as an RGB image of ID-1 proportions, `width` pixels wide."""
    u = width / 856.0  # layout is drawn for an 856 px card and scaled
    height = round(width / CARD_ASPECT)
    face = np.full((height, width, 3), 250, np.uint8)
    face[:] = (250, 250, 246)
    band = round(112 * u)
    face[:band] = card.colour
    face[band : band + max(1, round(6 * u))] = (214, 160, 40)
    lines = _wrap(card.library.upper(), 28)[:2]
    for i, line in enumerate(lines):
        _put_text(
            face,
            line,
            (round(36 * u), round((48 + 42 * i) * u)),
            30 * u,
            (255, 255, 255),
            bold=True,
            max_width=round(780 * u),
        )
    _put_text(
        face, "KARTU ANGGOTA / MEMBER CARD", (round(36 * u), round(152 * u)), 20 * u, card.colour
    )
    # Photo box with a head-and-shoulders silhouette.
    x0, y0, x1, y1 = round(40 * u), round(172 * u), round(190 * u), round(360 * u)
    face[y0:y1, x0:x1] = (205, 212, 220)
    cx = (x0 + x1) // 2
    cv2.circle(face, (cx, round(240 * u)), round(38 * u), (120, 128, 140), -1, cv2.LINE_AA)
    cv2.ellipse(
        face,
        (cx, y1),
        (round(66 * u), round(62 * u)),
        0,
        180,
        360,
        (120, 128, 140),
        -1,
        cv2.LINE_AA,
    )
    is_qr = card.symbology == "QRCode"
    text_limit = round((380 if is_qr else 600) * u)
    _put_text(face, "Nama / Name", (round(220 * u), round(200 * u)), 17 * u, (110, 110, 110))
    _put_text(
        face,
        card.name,
        (round(220 * u), round(242 * u)),
        34 * u,
        (20, 20, 20),
        bold=True,
        max_width=text_limit,
    )
    _put_text(face, "No. Anggota", (round(220 * u), round(290 * u)), 17 * u, (110, 110, 110))
    _put_text(
        face,
        card.member_id,
        (round(220 * u), round(332 * u)),
        34 * u,
        (20, 20, 20),
        bold=True,
        max_width=text_limit,
    )
    _draw_symbol(face, card, u)
    return face


def _draw_symbol(face: np.ndarray, card: MemberCard, u: float) -> None:
    height, width = face.shape[:2]
    if card.symbology == "QRCode":
        probe = barcode_image(card.text, "QRCode", 1, 1)
        module_px = max(2, int(200 * u) // probe.shape[0])
        symbol = barcode_image(card.text, "QRCode", module_px, 1)
        x = width - round(40 * u) - symbol.shape[1]
        y = height - round(36 * u) - symbol.shape[0]
        hrt = None
    else:
        probe = barcode_image(card.text, card.symbology, 1, 1)
        module_px = max(2, int(600 * u) // probe.shape[1])
        symbol = barcode_image(card.text, card.symbology, module_px, round(92 * u))
        x = (width - symbol.shape[1]) // 2
        y = round(382 * u)
        hrt = card.text
    h, w = symbol.shape
    ink = np.array([15, 15, 15], np.uint8)
    if card.light_on_dark:
        pad = 10 * module_px
        face[y - pad // 2 : y + h + pad // 2, x - pad : x + w + pad] = (24, 28, 36)
        ink = np.array([236, 236, 230], np.uint8)
    bars = symbol[..., None] < 128
    face[y : y + h, x : x + w] = np.where(bars, ink, face[y : y + h, x : x + w])
    if hrt is not None:
        shade = (230, 230, 230) if card.light_on_dark else (30, 30, 30)
        tw = cv2.getTextSize(hrt, cv2.FONT_HERSHEY_DUPLEX, 20 * u / 22.0, 1)[0][0]
        _put_text(face, hrt, ((width - tw) // 2, y + h + round(30 * u)), 20 * u, shade)
