"""`kiosk test-card` as an installer runs it: the PNG it writes is read back by `kiosk decode`
to the member id, the PDF carries the same card at ID-1 size, bad input gets a clear message."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.cards import CardReader
from kiosk.config import Settings
from kiosk.demo.printed_card import CARD_MM, POINTS_PER_MM, TEST_CARD_FORMATS
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.commands import IMAGE_BUDGET_MS

MEMBER = "19000123"  # matches the repository's config.toml [cards] pattern


def _kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_every_format_printed_as_png_decodes_to_the_member(tmp_path: Path, repo_root: Path) -> None:
    cards = [tmp_path / f"kartu uji {fmt}.png" for fmt in TEST_CARD_FORMATS]
    for fmt, path in zip(TEST_CARD_FORMATS, cards, strict=True):
        done = _kiosk("test-card", MEMBER, "--format", fmt, str(path), cwd=repo_root)
        assert done.returncode == 0, done.stderr
        assert str(path) in done.stdout
    done = _kiosk("decode", "--json", *map(str, cards), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    reader = CardReader(Settings().cards.pattern)
    formats = [record["format"] for record in records]
    assert formats == ["Codabar", "Code128", "Code39", "QRCode"]
    assert [reader.member_id(record["text"]) for record in records] == [MEMBER] * 4


def test_pdf_holds_the_card_at_id1_size_and_its_image_decodes(
    tmp_path: Path, repo_root: Path
) -> None:
    out = tmp_path / "card.pdf"
    done = _kiosk("test-card", MEMBER, "--format", "Code128", str(out), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    placed = re.search(rb"q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /Card Do Q", pdf)
    assert placed is not None
    size_mm = tuple(float(v) / POINTS_PER_MM for v in placed.groups())
    assert size_mm == pytest.approx(CARD_MM, abs=0.05)
    header = re.search(rb"/Width (\d+) /Height (\d+) .*?/Length (\d+) >>\nstream\n", pdf)
    assert header is not None
    width, height, length = (int(v) for v in header.groups())
    pixels = zlib.decompress(pdf[header.end() : header.end() + length])
    rgb = np.frombuffer(pixels, np.uint8).reshape(height, width, 3)
    result = build_chain(Settings().kiosk.scanner).decode(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), IMAGE_BUDGET_MS
    )
    assert [(s.text, s.format) for s in result.symbols] == [(MEMBER, "Code128")]


def test_a_number_the_card_pattern_refuses_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, repo_root: Path
) -> None:
    out = tmp_path / "card.png"
    done = _kiosk("test-card", "1234", str(out), cwd=repo_root)
    assert done.returncode == 2
    assert "not a member card under [cards] pattern" in done.stderr
    assert not out.exists()
    done = _kiosk("test-card", MEMBER, str(tmp_path / "card.jpg"), cwd=repo_root)
    assert done.returncode == 2 and "give a .png, .pdf, .mp4 or .avi" in done.stderr


def test_a_clip_of_the_card_plays_as_the_camera_and_reads_to_the_member(
    tmp_path: Path, repo_root: Path
) -> None:
    from kiosk.demo.footage import video_codec

    clip = tmp_path / f"kartu uji{video_codec()[1]}"
    done = _kiosk("test-card", MEMBER, "--format", "Code39", str(clip), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    assert "kiosk decode --camera" in done.stdout
    done = _kiosk("decode", "--json", "--camera", str(clip), "--seconds", "20", cwd=repo_root)
    assert done.returncode == 0, done.stderr
    reads = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    reader = CardReader(Settings().cards.pattern)
    assert reads and {reader.member_id(r["text"]) for r in reads} == {MEMBER}
    wrong = tmp_path / "card.mov"
    done = _kiosk("test-card", MEMBER, str(wrong), cwd=repo_root)
    assert done.returncode == 2 and ".mp4" in done.stderr and not wrong.exists()
