"""Scanner test fixtures: generated card videos and frame sources a test can steer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from terminal.scanner.fakes import CARD_PATTERN, FPS, ISBN, MEMBER, EventLog, FrameClock, ListSource

from kiosk.cards import CardReader
from kiosk.config import ScannerSettings
from kiosk.demo import footage, membercard


@pytest.fixture(scope="session")
def scanner_settings() -> ScannerSettings:
    return ScannerSettings()


@pytest.fixture(scope="session")
def card_reader() -> CardReader:
    return CardReader(CARD_PATTERN)


def _gesture(empty_before: int = 6, held: int = 24, empty_after: int = 6) -> footage.Sequence:
    return footage.Sequence(
        empty_before=empty_before, entering=3, held=held, leaving=3, empty_after=empty_after
    )


@pytest.fixture(scope="session")
def card_then_book_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The member's Codabar card held up, then a book's ISBN barcode (about 5 s at 15 fps)."""
    folder = tmp_path_factory.mktemp("video")
    return footage.write_card_video(
        folder / f"card-then-book{footage.video_codec()[1]}",
        [
            membercard.MemberCard(member_id=MEMBER, symbology="Codabar"),
            membercard.MemberCard(name="Buku", symbology="EAN13", payload=ISBN),
        ],
        _gesture(),
        fps=FPS,
    )


@pytest.fixture(scope="session")
def twice_shown_frames() -> list[np.ndarray]:
    """BGR frames: the member's QR card held 2 s, 2 s of empty scene, held again 2 s."""
    card = membercard.MemberCard(member_id=MEMBER, symbology="QRCode")
    frames = list(
        footage.sequence_frames(card, _gesture(empty_before=2, held=30, empty_after=30), seed=3)
    )
    frames += list(
        footage.sequence_frames(card, _gesture(empty_before=0, held=30, empty_after=4), seed=4)
    )
    return [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]


@pytest.fixture
def list_source() -> type[ListSource]:
    return ListSource


@pytest.fixture
def frame_clock() -> FrameClock:
    return FrameClock()


@pytest.fixture
def event_log() -> EventLog:
    return EventLog()


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    leftover = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == [], f"threads left behind: {leftover}"
