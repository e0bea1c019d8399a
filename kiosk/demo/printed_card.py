"""`kiosk test-card`: a member card to print (PNG, or a PDF at ID-1 size on A4), or a clip of it
held up, for an installer to try a new camera."""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np

from kiosk.cards import CardReader, NotAMemberCard
from kiosk.config import Settings
from kiosk.demo import footage
from kiosk.demo.membercard import MemberCard, card_payload, render_card

# Symbologies an installer may print (the ones a member card of the kiosk carries).
TEST_CARD_FORMATS = ("Codabar", "Code128", "Code39", "QR")
CARD_MM = (85.6, 54.0)  # ISO/IEC 7810 ID-1
A4_MM = (210.0, 297.0)
PRINT_WIDTH_PX = 1712  # 508 dpi at 85.6 mm: crisp bars on any office printer
POINTS_PER_MM = 72 / 25.4


class TestCardError(ValueError):
    """The card cannot be made as asked (a number the card pattern refuses, a bad file)."""


def symbology_of(name: str) -> str:
    """The zxing-cpp BarcodeFormat name for a --format choice (QR is QRCode)."""
    return "QRCode" if name == "QR" else name


def test_card(member_id: str, fmt: str, settings: Settings) -> MemberCard:
    """The card, once the kiosk's own `[cards] pattern` reads its barcode back to
    `member_id` (so the printed card proves the camera, not a mistyped number)."""
    symbology = symbology_of(fmt)
    payload = card_payload(member_id, symbology)
    try:
        read_back = CardReader(settings.cards.pattern).member_id(payload)
    except (NotAMemberCard, ValueError) as exc:
        raise TestCardError(
            f"{payload!r} is not a member card under [cards] pattern ({exc}): "
            "use a member number the kiosk accepts"
        ) from None
    if read_back != member_id.strip().upper():
        raise TestCardError(
            f"[cards] pattern reads {payload!r} as member {read_back!r}, not {member_id!r}"
        )
    return MemberCard(
        member_id=member_id,
        name="Kartu Uji / Test Card",
        symbology=symbology,
        library=settings.library.name,
    )


def make_card_image(member_id: str, fmt: str, settings: Settings) -> np.ndarray:
    """The card face as RGB, at print resolution."""
    return render_card(test_card(member_id, fmt, settings), PRINT_WIDTH_PX)


def write_test_clip(path: Path, card: MemberCard) -> None:
    """About 7 s of a camera's view: an empty room, the card held up, taken away."""
    _, playable = footage.video_codec()
    if path.suffix.lower() != playable:
        raise TestCardError(f"{path}: this OpenCV writes and reads {playable} videos")
    if path.parent and not path.parent.is_dir():
        raise TestCardError(f"{path.parent}: no such folder")
    footage.write_card_video(path, [card], footage.Sequence(empty_before=30, held=45))


def pdf_bytes(rgb: np.ndarray) -> bytes:
    """A one-page A4 PDF with `rgb` placed at ID-1 size (85.6 x 54 mm), centred near the top,
    so that a printer at 100% gives a card of a real card's size."""
    height, width = rgb.shape[:2]
    page_w, page_h = (round(mm * POINTS_PER_MM, 2) for mm in A4_MM)
    card_w, card_h = (round(mm * POINTS_PER_MM, 2) for mm in CARD_MM)
    x, y = round((page_w - card_w) / 2, 2), round(page_h - card_h - 30 * POINTS_PER_MM, 2)
    pixels = zlib.compress(np.ascontiguousarray(rgb, np.uint8).tobytes(), 9)
    content = f"q {card_w} 0 0 {card_h} {x} {y} cm /Card Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w} {page_h}] "
        f"/Resources << /XObject << /Card 4 0 R >> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
        f"/Length {len(pixels)} >>\nstream\n".encode()
        + pixels
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_test_card(path: Path, rgb: np.ndarray) -> None:
    """Write the card as PNG or PDF, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".pdf"):
        raise TestCardError(f"{path}: give a .png, .pdf, .mp4 or .avi file name")
    if path.parent and not path.parent.is_dir():
        raise TestCardError(f"{path.parent}: no such folder")
    if suffix == ".pdf":
        path.write_bytes(pdf_bytes(rgb))
    elif not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise TestCardError(f"{path}: could not be written")


def cmd_test_card(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.out.suffix.lower() in (".mp4", ".avi"):
            write_test_clip(args.out, test_card(args.member_id, args.format, settings))
            print(
                f"{args.out}: a camera's view of member {args.member_id}'s test card "
                f"({args.format}); play it as the camera: kiosk decode --camera {args.out}, "
                "or [kiosk.scanner] camera"
            )
            return 0
        rgb = make_card_image(args.member_id, args.format, settings)
        write_test_card(args.out, rgb)
    except (TestCardError, OSError, ValueError) as exc:
        print(f"kiosk test-card: {exc}", file=sys.stderr)
        return 2
    print(
        f"{args.out}: test card for member {args.member_id} ({args.format}); "
        "print at 100% and hold it up to the camera (kiosk decode --camera 0, or maintenance)"
    )
    return 0
