"""Barcode decoders (zxing-cpp, pyzbar, OpenCV WeChat QR) behind one interface: each reads
symbols from a greyscale image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from kiosk.config import ConfigError

Points = tuple[tuple[float, float], ...]
DECODER_NAMES = ("zxing-cpp", "pyzbar", "wechat")


@dataclass(frozen=True)
class Symbol:
    """One decoded barcode: raw text, zxing-cpp BarcodeFormat name, corners in the pixel
    coordinates of the image given to the chain (origin top-left), and who read it."""

    text: str
    format: str
    points: Points
    decoder: str = ""


class Decoder:
    """Reads symbols from a greyscale uint8 image."""

    name = "decoder"

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        raise NotImplementedError


def validate_formats(formats: Sequence[str]) -> list[str]:
    names: list[str] = []
    for name in formats:
        try:
            zxingcpp.barcode_format_from_str(name)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"kiosk.scanner.formats: unknown barcode format {name!r} "
                "(expected zxing-cpp BarcodeFormat names such as Codabar, Code128, QRCode)"
            ) from exc
        names.append(name)
    return names


class ZxingDecoder(Decoder):
    name = "zxing-cpp"

    def __init__(
        self,
        formats: Sequence[str],
        *,
        binarizer: str = "local",
        try_rotate: bool = True,
        try_downscale: bool = True,
    ) -> None:
        self.formats = validate_formats(formats)
        self._formats = zxingcpp.barcode_formats_from_str(",".join(self.formats))
        self._binarizer = (
            zxingcpp.Binarizer.GlobalHistogram
            if binarizer == "global"
            else zxingcpp.Binarizer.LocalAverage
        )
        self._try_rotate = try_rotate
        self._try_downscale = try_downscale
        if binarizer == "global":
            self.name = "zxing-cpp[global]"

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        found = zxingcpp.read_barcodes(
            gray,
            formats=self._formats,
            try_rotate=self._try_rotate,
            try_downscale=self._try_downscale,
            binarizer=self._binarizer,
            text_mode=zxingcpp.TextMode.Plain,
        )
        symbols = []
        for barcode in found:
            p = barcode.position
            corners = tuple(
                (float(c.x), float(c.y))
                for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            )
            symbols.append(Symbol(barcode.text, barcode.format.name, corners, self.name))
        return symbols


# pyzbar symbol type -> zxing-cpp BarcodeFormat name, and back for the formats we look for.
_PYZBAR_TO_ZXING = {
    "CODABAR": "Codabar",
    "CODE39": "Code39",
    "CODE93": "Code93",
    "CODE128": "Code128",
    "EAN13": "EAN13",
    "ISBN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "I25": "ITF",
    "QRCODE": "QRCode",
    "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBarExp",
    "PDF417": "PDF417",
}


class PyzbarDecoder(Decoder):
    name = "pyzbar"

    def __init__(self, formats: Sequence[str]) -> None:
        from pyzbar import pyzbar  # libzbar0 is loaded only when asked for

        self._pyzbar = pyzbar
        wanted = set(validate_formats(formats))
        self._symbols = [
            getattr(pyzbar.ZBarSymbol, zbar)
            for zbar, zxing in _PYZBAR_TO_ZXING.items()
            if zxing in wanted and zbar != "ISBN13"
        ]

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        if not self._symbols:
            return []
        found = self._pyzbar.decode(np.ascontiguousarray(gray), symbols=self._symbols)
        symbols = []
        for item in found:
            polygon = [(float(x), float(y)) for x, y in item.polygon]
            symbols.append(
                Symbol(
                    item.data.decode("utf-8", errors="replace"),
                    _PYZBAR_TO_ZXING.get(item.type, item.type),
                    _four_corners(polygon),
                    self.name,
                )
            )
        return symbols


class WeChatDecoder(Decoder):
    """OpenCV contrib's WeChat QR reader, constructed without its CNN model files (it then
    uses OpenCV's classic QR detector and its own, more forgiving, decoder)."""

    name = "wechat"

    def __init__(self, formats: Sequence[str]) -> None:
        self.enabled = "QRCode" in validate_formats(formats)
        self._reader = cv2.wechat_qrcode.WeChatQRCode()

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        if not self.enabled:
            return []
        try:
            texts, boxes = self._reader.detectAndDecode(gray)
        except UnicodeDecodeError:
            # The binding hands back only UTF-8 text; a QR in another charset cannot be
            # returned faithfully, so it counts as not read (zxing-cpp reads those).
            return []
        symbols = []
        for text, box in zip(texts, boxes, strict=False):
            if text:
                corners = tuple((float(x), float(y)) for x, y in np.asarray(box).reshape(-1, 2))
                symbols.append(Symbol(text, "QRCode", corners, self.name))
        return symbols


def _four_corners(polygon: list[tuple[float, float]]) -> Points:
    if len(polygon) == 4:
        return tuple(polygon)
    if not polygon:
        return ()
    box = cv2.boxPoints(cv2.minAreaRect(np.array(polygon, np.float32)))
    return tuple((float(x), float(y)) for x, y in box)


def make_decoder(name: str, formats: Sequence[str]) -> Decoder:
    if name == "zxing-cpp":
        return ZxingDecoder(formats)
    if name == "pyzbar":
        return PyzbarDecoder(formats)
    if name == "wechat":
        return WeChatDecoder(formats)
    raise ConfigError(
        f"kiosk.scanner.decoders: unknown decoder {name!r} (expected one of "
        f"{', '.join(DECODER_NAMES)})"
    )
