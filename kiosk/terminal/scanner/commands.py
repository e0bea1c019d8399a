"""`kiosk decode`: decode barcodes in image files, or live from a camera or video."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np

from kiosk.cards import CardReader
from kiosk.config import ConfigError, Settings
from kiosk.terminal.scanner.chain import DecoderChain, build_chain

# A still image has no next frame to try the remaining steps on: it gets a longer budget.
IMAGE_BUDGET_MS = 500.0


class ImageUnreadable(Exception):
    """The file is missing or is not an image this build can decode."""


def load_gray(path: Path) -> np.ndarray:
    """An image file as greyscale uint8 (EXIF orientation applied); a GIF OpenCV's image
    codecs refuse (animated, on some builds) is tried through FFmpeg."""
    if path.is_dir():
        raise ImageUnreadable("a folder, not an image (use --camera FOLDER to play one)")
    if not path.is_file():
        raise ImageUnreadable("no such file")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None and path.suffix.lower() != ".gif":
        raise ImageUnreadable("not an image that can be read")
    if image is None:
        capture = cv2.VideoCapture(str(path))
        try:
            ok, frame = capture.read() if capture.isOpened() else (False, None)
        finally:
            capture.release()
        if not ok or frame is None:
            raise ImageUnreadable("not an image that can be read")
        image = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return np.asarray(image)


def decode_file(path: Path, chain: DecoderChain) -> dict[str, Any]:
    """One output record for one image: path, text, format, ms (and error when unreadable)."""
    started = time.perf_counter()
    record: dict[str, Any] = {"path": str(path), "text": None, "format": None}
    try:
        gray = load_gray(path)
    except (ImageUnreadable, OSError, cv2.error) as exc:
        record["ms"] = round((time.perf_counter() - started) * 1000, 2)
        record["error"] = str(exc)
        return record
    result = chain.decode(gray, budget_ms=max(IMAGE_BUDGET_MS, chain.budget_ms))
    if result.symbols:
        record["text"] = result.symbols[0].text
        record["format"] = result.symbols[0].format
    record["ms"] = round((time.perf_counter() - started) * 1000, 2)
    return record


def _print(record: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(record, ensure_ascii=False), file=out, flush=True)
    elif "error" in record:
        print(f"{record['path']}: error: {record['error']}", file=out, flush=True)
    elif record["text"] is None:
        print(f"{record['path']}: nothing found ({record['ms']} ms)", file=out, flush=True)
    else:
        print(
            f"{record['path']}: {record['text']!r} {record['format']} ({record['ms']} ms)",
            file=out,
            flush=True,
        )


def cmd_decode(args: argparse.Namespace, settings: Settings) -> int:
    cv2.setNumThreads(1)  # the kiosk decodes on one core; measure it so
    decoders = None
    if args.decoders:
        decoders = [name.strip() for name in args.decoders.split(",") if name.strip()]
    chain = build_chain(settings.kiosk.scanner, decoders)
    if args.camera:
        return _decode_live(args, settings, chain)
    if not args.images:
        print("kiosk decode: give image files, or --camera", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        record = decode_file(path, chain)
        failed += "error" in record
        _print(record, args.json, sys.stdout)
    return 1 if failed else 0


def _decode_live(args: argparse.Namespace, settings: Settings, chain: DecoderChain) -> int:
    from kiosk.terminal.scanner.gate import build_gate
    from kiosk.terminal.scanner.sources import SourceUnavailable, open_source
    from kiosk.terminal.scanner.worker import ScanEvent, ScannerWorker

    scanner = settings.kiosk.scanner
    try:
        source = open_source(args.camera, scanner.width, scanner.height, loop=False)
        source.open()
    except SourceUnavailable as exc:
        _print({"path": args.camera, "text": None, "format": None, "ms": 0, "error": str(exc)},
               args.json, sys.stdout)  # fmt: skip
        return 1
    try:
        cards = CardReader(settings.cards.pattern)
    except ValueError as exc:
        raise ConfigError(f"cards.pattern: {exc}") from None
    done = threading.Event()

    def on_event(event: ScanEvent) -> None:
        record: dict[str, Any] = {
            "path": args.camera,
            "text": event.text or None,
            "format": event.format or None,
            "ms": round(worker.stats.last_decode_ms, 2),
            "kind": event.kind,
        }
        if event.member_id is not None:
            record["member_id"] = event.member_id
        _print(record, args.json, sys.stdout)

    worker = ScannerWorker(
        source,
        chain,
        cards,
        debounce_seconds=scanner.debounce_seconds,
        on_event=on_event,
        gate=build_gate(scanner),
    )
    worker.start()
    deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
    try:
        while not done.wait(0.1):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if worker.stats.camera_state == "ended":
                break
    finally:
        worker.stop()
    return 0
