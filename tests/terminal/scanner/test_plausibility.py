"""Reads no card can give are never reported: crafted partial reads of Codabar, Code 39 and
ITF (the wrong read seen on webcam frames: Codabar C41025419B read as C41D), as unit cases
and as real printed symbols through the chain and `kiosk decode`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.config import ScannerSettings
from kiosk.demo.membercard import barcode_image
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.commands import IMAGE_BUDGET_MS
from kiosk.terminal.scanner.decoders import Symbol
from kiosk.terminal.scanner.plausibility import implausible

BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))

PARTIAL_READS = [
    ("C41D", "Codabar"),  # the partial read of C41025419B seen on a webcam frame
    ("A1B", "Codabar"),
    ("41025419", "Codabar"),  # no start/stop letters: not a whole Codabar symbol
    ("A19X0123B", "Codabar"),  # X is no Codabar character
    ("19", "Code39"),
    ("ab\x0712", "Code39"),  # a control character: printed on no card
    ("12", "ITF"),
    ("1900123", "ITF"),  # odd: interleaved pairs cannot give it
    ("A" + "1" * 40 + "B", "Codabar"),
]
WHOLE_READS = [
    ("C41025419B", "Codabar"),
    ("A19000123B", "Codabar"),
    ("19000123", "Code39"),
    ("LIB-0042", "Code39"),
    ("19000124", "ITF"),
    ("19", "Code128"),  # Code 128 has its own mod-103 check: short codes stay readable
    ("9786020332956", "EAN13"),
    ("x", "QRCode"),
]


@pytest.mark.parametrize(("text", "fmt"), PARTIAL_READS)
def test_a_partial_read_is_implausible(text: str, fmt: str) -> None:
    assert implausible(Symbol(text, fmt, BOX)) is not None


@pytest.mark.parametrize(("text", "fmt"), WHOLE_READS)
def test_a_whole_card_read_is_plausible(text: str, fmt: str) -> None:
    assert implausible(Symbol(text, fmt, BOX)) is None


def _printed(payload: str, symbology: str) -> np.ndarray:
    """A crisp printed symbol on white paper with a quiet zone, as a camera would see it."""
    symbol = barcode_image(payload, symbology, 4, 120)
    page = np.full((symbol.shape[0] + 160, symbol.shape[1] + 200), 255, np.uint8)
    page[80 : 80 + symbol.shape[0], 100 : 100 + symbol.shape[1]] = symbol
    return page


@pytest.mark.parametrize(("text", "fmt"), [("C41D", "Codabar"), ("AB", "Code39")])
def test_the_chain_reads_the_whole_card_but_refuses_a_short_symbol(text: str, fmt: str) -> None:
    chain = build_chain(ScannerSettings())
    whole = "C41025419B" if fmt == "Codabar" else "LIB-0042"
    assert [s.text for s in chain.decode(_printed(whole, fmt), IMAGE_BUDGET_MS).symbols] == [whole]
    result = chain.decode(_printed(text, fmt), IMAGE_BUDGET_MS)
    assert result.symbols == [] and result.implausible >= 1


def test_kiosk_decode_applies_the_same_rules(tmp_path: Path, repo_root: Path) -> None:
    short, whole = tmp_path / "short.png", tmp_path / "whole.png"
    cv2.imwrite(str(short), _printed("C41D", "Codabar"))
    cv2.imwrite(str(whole), _printed("C41025419B", "Codabar"))
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "decode", "--json", str(short), str(whole)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=repo_root,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in records] == [None, "C41025419B"]
