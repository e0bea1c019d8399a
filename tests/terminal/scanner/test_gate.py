"""The idle gate: an empty reading room is decoded about once a second, a card is decoded
from the frame it enters until it leaves, a card in view at start is still read, and the
worker with the gate reports the card as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from terminal.scanner.fakes import FPS, MEMBER, EventLog, FrameClock, ListSource

from kiosk.cards import CardReader
from kiosk.config import ConfigError, ScannerSettings, Settings
from kiosk.demo import footage, membercard
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.gate import IdleGate, build_gate
from kiosk.terminal.scanner.worker import ScannerWorker

GESTURE = footage.Sequence(empty_before=30, entering=6, held=20, leaving=6, empty_after=45)


def _bgr_frames(card: membercard.MemberCard, sequence: footage.Sequence, seed: int) -> list:
    frames = footage.sequence_frames(card, sequence, seed=seed)
    return [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]


@pytest.fixture(scope="module")
def gesture_frames() -> list[np.ndarray]:
    return _bgr_frames(membercard.MemberCard(symbology="Code128"), GESTURE, seed=5)


def _wanted(gate: IdleGate, frames: list[np.ndarray]) -> list[bool]:
    return [gate.wants(frame, i / FPS) for i, frame in enumerate(frames)]


def test_empty_room_is_decoded_once_a_second_and_a_card_every_frame(
    gesture_frames: list[np.ndarray],
) -> None:
    wanted = _wanted(IdleGate(idle_decode_seconds=1.0), gesture_frames)
    before = wanted[: GESTURE.empty_before]
    card_start = GESTURE.empty_before
    card_end = card_start + GESTURE.entering + GESTURE.held
    after = wanted[card_end + GESTURE.leaving + 15 :]  # 1 s for the scene to settle again
    assert sum(before) <= 1 + GESTURE.empty_before / FPS  # the first frame and once a second
    assert all(wanted[card_start:card_end]), wanted[card_start:card_end]
    assert 1 <= sum(after) <= 1 + len(after) / FPS


def test_a_card_in_view_from_the_start_is_still_decoded_periodically() -> None:
    held = footage.Sequence(empty_before=0, entering=0, held=45, leaving=0, empty_after=0)
    frames = _bgr_frames(membercard.MemberCard(symbology="Codabar"), held, seed=6)
    wanted = _wanted(IdleGate(idle_decode_seconds=0.5), frames)
    assert wanted[0] and sum(wanted) >= len(frames) / FPS / 0.5


def test_gate_is_configured_and_can_be_turned_off() -> None:
    assert isinstance(build_gate(ScannerSettings()), IdleGate)
    assert build_gate(ScannerSettings(idle_gate=False)) is None
    assert build_gate(ScannerSettings(idle_decode_seconds=2.5)).idle_decode_seconds == 2.5  # type: ignore[union-attr]
    with pytest.raises((ConfigError, ValueError)):
        Settings.model_validate({"kiosk": {"scanner": {"idle_decode_seconds": 0}}})


def test_worker_with_the_gate_reports_the_card_and_skips_idle_frames(
    gesture_frames: list[np.ndarray], card_reader: CardReader, no_leaked_threads: None
) -> None:
    log, clock = EventLog(), FrameClock()
    source = ListSource(gesture_frames, clock=clock, interval=0.03)
    worker = ScannerWorker(
        source,  # type: ignore[arg-type]
        build_chain(ScannerSettings()),
        card_reader,
        debounce_seconds=30.0,
        on_event=log,
        clock=clock,
        gate=IdleGate(),
    )
    worker.start()
    try:
        assert log.wait_for(lambda: worker.stats.camera_state == "ended", timeout=30)
        assert log.wait_for(lambda: len(log.of("card")) == 1, timeout=5)
    finally:
        worker.stop()
    assert [e.member_id for e in log.of("card")] == [MEMBER]
    assert worker.stats.idle_frames > GESTURE.empty_before // 2
