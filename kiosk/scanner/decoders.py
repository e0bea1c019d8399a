"""Barcode decoders (zxing-cpp, pyzbar, OpenCV WeChat QR) behind one interface, and the
chain that tries them with preprocessing steps within a per-frame time budget."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from kiosk.config import ConfigError, ScannerSettings

Points = tuple[tuple[float, float], ...]
DECODER_NAMES = ("zxing-cpp", "pyzbar", "wechat")
# EAN/UPC carry a check digit by definition: a read that fails it is a misread.
MANDATORY_CHECK = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ISBN", "ITF14"})
# Check characters a library may or may not print (verified only when configured).
OPTIONAL_CHECK = frozenset({"Code39", "ITF"})
# 2-D symbols carry Reed-Solomon error correction: a misread is all but impossible.
SELF_CHECKING = frozenset(
    {"QRCode", "MicroQRCode", "RMQRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode"}
)
LINEAR_FORMATS = frozenset(
    {"Codabar", "Code39", "Code39Std", "Code39Ext", "Code32", "PZN", "Code93", "Code128", "ITF",
     "ITF14", "EAN13", "EAN8", "UPCA", "UPCE", "ISBN", "EANUPC", "DataBar", "DataBarExp",
     "DataBarLtd", "DataBarOmni"}
)  # fmt: skip


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


def _validate_formats(formats: Sequence[str]) -> list[str]:
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
        self.formats = _validate_formats(formats)
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
        wanted = set(_validate_formats(formats))
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
        self.enabled = "QRCode" in _validate_formats(formats)
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


# ------------------------------------------------------------------ check digits


def gtin_valid(digits: str) -> bool:
    """EAN-13/EAN-8/UPC-A/ITF-14: the last digit is the mod-10 check of the others."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def upce_to_upca(digits: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to its 12-digit UPC-A."""
    ns, d, check = digits[0], digits[1:7], digits[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


_CODE39_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"


def code39_mod43_valid(text: str) -> bool:
    if len(text) < 2 or any(c not in _CODE39_CHARS for c in text):
        return False
    return _CODE39_CHARS[sum(_CODE39_CHARS.index(c) for c in text[:-1]) % 43] == text[-1]


def check_symbol(symbol: Symbol, verify_optional: bool) -> Symbol | None:
    """The symbol if its check digit holds, None for a misread. A verified optional check
    character (Code 39 mod 43, ITF mod 10) is removed: it is not part of the card number."""
    fmt, text = symbol.format, symbol.text
    if fmt in MANDATORY_CHECK:
        if fmt == "UPCE":
            return (
                symbol
                if len(text) == 8 and text.isdigit() and gtin_valid(upce_to_upca(text))
                else None
            )
        return symbol if gtin_valid(text) else None
    if verify_optional and fmt in OPTIONAL_CHECK:
        ok = code39_mod43_valid(text) if fmt == "Code39" else gtin_valid(text)
        if not ok:
            return None
        return Symbol(text[:-1], fmt, symbol.points, symbol.decoder)
    return symbol


# ------------------------------------------------------------------ preprocessing

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


def prepare_deskew(gray: np.ndarray) -> list[View]:
    """Crops around bar-like regions, turned so that their bars stand upright.

    zxing-cpp and ZBar read linear codes along rows (and columns): a card held more than a
    few degrees askew has no row crossing every bar. This finds regions of strong,
    coherent gradients (bars), estimates their direction from the structure tensor and
    hands each one over straightened, enlarged when small.
    """
    views: list[View] = []
    for centre, angle, length, across in barcode_regions(gray):
        scale = min(3.0, max(1.0, 600.0 / max(length, 1.0)))
        out_w = int(min(2400, (length * 1.3 + 40) * scale))
        out_h = int(min(1200, (across + 40) * scale))
        matrix = cv2.getRotationMatrix2D(centre, angle, scale)
        matrix[0, 2] += out_w / 2 - centre[0]
        matrix[1, 2] += out_h / 2 - centre[1]
        crop = cv2.warpAffine(
            gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        views.append((crop, cv2.invertAffineTransform(matrix)))
    return views


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
    threshold = 0.2 * float(np.percentile(energy, 99.5))
    mask = ((energy > threshold) & (coherence > 0.65)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
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


def drop_conflicts(symbols: list[Symbol]) -> list[Symbol]:
    """Without the linear symbols that overlap another of their format with a different
    text: two readings of one place cannot both be right, and guessing would risk naming
    the wrong member. (Two different QR codes may nest: some designs do that.)"""
    if len(symbols) < 2:
        return symbols
    boxes = [_bounds(s.points) for s in symbols]
    keep = []
    for i, symbol in enumerate(symbols):
        clash = symbol.format not in SELF_CHECKING and any(
            j != i
            and symbols[j].format == symbol.format
            and symbols[j].text != symbol.text
            and _overlap(boxes[i], boxes[j])
            for j in range(len(symbols))
        )
        if not clash:
            keep.append(symbol)
    return keep


def _bounds(points: Points) -> tuple[float, float, float, float]:
    if not points:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _map_points(points: Points, inverse: np.ndarray | None) -> Points:
    if inverse is None or not points:
        return points
    array = np.array(points, np.float32).reshape(-1, 1, 2)
    mapped = cv2.transform(array, inverse).reshape(-1, 2)
    return tuple((float(x), float(y)) for x, y in mapped)


# ------------------------------------------------------------------ the chain


@dataclass(frozen=True)
class Step:
    """One attempt: a preprocessing of the greyscale image read by one decoder."""

    name: str
    prepare: Prepare
    decoder: Decoder
    # False when the preprocessing bounds the work (crops, a fitted size): the cost is then
    # learned in ms rather than in ms per megapixel.
    sized: bool = True


SKIPPED_COST_DECAY = 0.95  # a step over budget by 2x is retried after ~14 skipped frames


@dataclass
class ChainResult:
    symbols: list[Symbol]
    ms: float
    steps: list[str] = field(default_factory=list)
    checksum_failures: int = 0


class DecoderChain:
    """Tries its steps in order until one reads a symbol. The first step always runs; a
    later one starts only while budget is left and when its learned cost alone does not
    exceed the whole budget (so one slow step cannot stall every frame)."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        budget_ms: float = 60.0,
        verify_optional_checksums: bool = False,
    ) -> None:
        if not steps:
            raise ValueError("a decoder chain needs at least one step")
        self.steps = list(steps)
        self.budget_ms = budget_ms
        self.verify_optional_checksums = verify_optional_checksums
        # Learned cost of each step in ms per megapixel (running average), to predict
        # whether a step still fits the budget.
        self._cost: dict[str, float] = {}
        self._skipped: dict[str, int] = {}  # frames since a step was last run for its cost
        self._cursor = 0

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    def decode(
        self, image: np.ndarray, budget_ms: float | None = None, *, spread: bool = False
    ) -> ChainResult:
        """Symbols in `image` (grey or BGR) from the first step that reads any.

        With `spread` (video), the optional steps start where the previous frame left off,
        so that consecutive frames of the same scene try different steps instead of
        repeating the ones that already failed.
        """
        started = time.perf_counter()
        budget = self.budget_ms if budget_ms is None else budget_ms
        gray = as_gray(image)
        # Costs scale with pixels, plus a fixed part that dominates on small images.
        megapixels = max(gray.shape[0] * gray.shape[1] / 1e6, 0.1)
        result = ChainResult([], 0.0)
        order = list(range(len(self.steps)))
        if spread and len(order) > 2:
            extras = order[1:]
            shift = self._cursor % len(extras)
            order = [0, *extras[shift:], *extras[:shift]]
        for position, index in enumerate(order):
            step = self.steps[index]
            elapsed = (time.perf_counter() - started) * 1000
            expected = self._cost.get(step.name, 0.0) * (megapixels if step.sized else 1.0)
            if position > 0 and elapsed >= budget:
                continue
            skipped = self._skipped.get(step.name, 0)
            if position > 0 and expected * SKIPPED_COST_DECAY**skipped > budget:
                # The estimate fades while skipped, so that a step measured once on a busy
                # machine is tried again later instead of never.
                self._skipped[step.name] = skipped + 1
                continue
            self._skipped[step.name] = 0
            if spread and position > 0:
                self._cursor += 1
            symbols = self._run(step, gray, megapixels, result)
            result.steps.append(step.name)
            if symbols:
                result.symbols = symbols
                break
        result.ms = (time.perf_counter() - started) * 1000
        return result

    def _run(
        self, step: Step, gray: np.ndarray, megapixels: float, result: ChainResult
    ) -> list[Symbol]:
        started = time.perf_counter()
        symbols: list[Symbol] = []
        seen: set[tuple[str, str]] = set()
        for view, inverse in step.prepare(gray):
            for symbol in step.decoder.decode(view):
                checked = check_symbol(symbol, self.verify_optional_checksums)
                if checked is None:
                    result.checksum_failures += 1
                    continue
                if (checked.text, checked.format) in seen:
                    continue
                seen.add((checked.text, checked.format))
                symbols.append(
                    Symbol(
                        checked.text,
                        checked.format,
                        _map_points(checked.points, inverse),
                        step.name,
                    )
                )
            if symbols:
                break
        symbols = drop_conflicts(symbols)
        ms = (time.perf_counter() - started) * 1000
        cost = ms / megapixels if step.sized else ms
        previous = self._cost.get(step.name)
        self._cost[step.name] = cost if previous is None else 0.8 * previous + 0.2 * cost
        return symbols


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


def chain_steps(decoders: Sequence[str], formats: Sequence[str]) -> list[Step]:
    """The steps for a chain of decoders, in the configured order: each decoder on the plain
    greyscale image followed by its cheap variants, then the costly variants of all of them
    (the order the benchmark in docs/benchmarks.md found most productive per millisecond)."""
    if not decoders:
        raise ConfigError("kiosk.scanner.decoders: the chain needs at least one decoder")
    formats = _validate_formats(formats)
    linear = [f for f in formats if f in LINEAR_FORMATS]
    cheap: list[Step] = []
    costly: list[Step] = []
    for name in dict.fromkeys(decoders):
        decoder = make_decoder(name, formats)
        if isinstance(decoder, WeChatDecoder):
            if decoder.enabled:
                cheap.append(Step(name, prepare_fit, decoder, sized=False))
            continue
        cheap.append(Step(name, prepare_gray, decoder))
        if isinstance(decoder, ZxingDecoder):
            if linear:
                # The crops are already upright and scaled: no rotated or downscaled passes
                # (a downscaled blurred crop is where misreads came from).
                straight = ZxingDecoder(linear, try_rotate=False, try_downscale=False)
                cheap.append(Step("zxing-cpp+deskew", prepare_deskew, straight, sized=False))
            cheap.append(Step("zxing-cpp+upscale", prepare_upscale, decoder))
            global_binarizer = ZxingDecoder(formats, binarizer="global")
            cheap.append(Step("zxing-cpp[global]", prepare_gray, global_binarizer))
            costly.append(Step("zxing-cpp+equalise", prepare_equalise, decoder))
        else:
            costly.append(Step("pyzbar+invert", prepare_invert, decoder))
            costly.append(Step("pyzbar+upscale", prepare_upscale, decoder))
    if not cheap:
        raise ConfigError("kiosk.scanner.decoders: no decoder in the chain reads the formats")
    return cheap + costly


def build_chain(settings: ScannerSettings, decoders: Sequence[str] | None = None) -> DecoderChain:
    """The chain configured by `[kiosk.scanner]` (decoders, formats, frame_budget_ms,
    verify_optional_checksums); `decoders` overrides the configured list."""
    names = list(decoders) if decoders is not None else list(settings.decoders)
    return DecoderChain(
        chain_steps(names, settings.formats),
        budget_ms=settings.frame_budget_ms,
        verify_optional_checksums=settings.verify_optional_checksums,
    )
