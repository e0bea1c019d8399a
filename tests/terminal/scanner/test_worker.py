"""The scanner worker: one report per card, debounce, rejected reads, a camera that comes
and goes, and a clean stop."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from terminal.scanner.fakes import ISBN, MEMBER, EventLog, FrameClock, ListSource

from kiosk.cards import CardReader
from kiosk.config import ScannerSettings
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.sources import Backoff, VideoFileSource
from kiosk.terminal.scanner.worker import ScanEvent, ScannerWorker


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _worker(
    source: object,
    settings: ScannerSettings,
    cards: CardReader,
    log: EventLog,
    *,
    debounce: float = 30.0,
    clock: FrameClock | None = None,
) -> ScannerWorker:
    kwargs = {"clock": clock} if clock is not None else {}
    return ScannerWorker(
        source,  # type: ignore[arg-type]
        build_chain(settings),
        cards,
        debounce_seconds=debounce,
        on_event=log,
        **kwargs,  # type: ignore[arg-type]
    )


def test_video_of_a_card_then_a_book_reports_one_card_and_one_rejected_read(
    card_then_book_video: Path,
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    event_log: EventLog,
    no_leaked_threads: None,
) -> None:
    fds_before = _open_fds()
    frames_seen = []
    source = VideoFileSource(card_then_book_video, loop=False)
    worker = ScannerWorker(
        source,
        build_chain(scanner_settings),
        card_reader,
        debounce_seconds=30.0,
        on_event=event_log,
        on_frame=lambda: frames_seen.append(1),
    )
    worker.start()
    try:
        assert event_log.wait_for(lambda: worker.stats.camera_state == "ended", timeout=30)
        assert event_log.wait_for(lambda: len(event_log.of("rejected")) >= 1, timeout=5)
    finally:
        worker.stop()
    cards = event_log.of("card")
    rejected = event_log.of("rejected")
    assert [(e.member_id, e.text, e.format) for e in cards] == [(MEMBER, f"A{MEMBER}B", "Codabar")]
    assert [(e.member_id, e.text, e.format) for e in rejected] == [(None, ISBN, "EAN13")]
    card = cards[0]
    assert isinstance(card, ScanEvent)
    assert card.frame_size == (1280, 720)
    assert len(card.points) == 4
    assert all(0 <= x <= 1280 and 0 <= y <= 720 for x, y in card.points)
    assert len(frames_seen) > 50
    frame, seq = worker.latest_frame()  # type: ignore[misc]
    assert frame.shape == (720, 1280, 3) and frame.dtype == np.uint8 and seq == len(frames_seen)
    assert _open_fds() <= fds_before


def test_same_card_is_reported_again_only_after_the_debounce_time(
    twice_shown_frames: list[np.ndarray],
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    no_leaked_threads: None,
) -> None:
    # The card is held 2 s, away 2 s, held again 2 s (simulated time at 15 fps).
    reports = {}
    for debounce in (10.0, 2.5):
        log = EventLog()
        clock = FrameClock()
        source = ListSource(twice_shown_frames, clock=clock)
        worker = _worker(source, scanner_settings, card_reader, log, debounce=debounce, clock=clock)
        worker.start()
        try:
            assert log.wait_for(lambda w=worker: w.stats.camera_state == "ended", timeout=30)
            time.sleep(0)  # the decode thread may still hold the last frame
            assert log.wait_for(lambda w=worker: w.stats.decodes > 0)
        finally:
            worker.stop()
        reports[debounce] = [e.member_id for e in log.of("card")]
    assert reports[10.0] == [MEMBER]
    assert reports[2.5] == [MEMBER, MEMBER]


def test_reset_debounce_lets_the_same_card_be_reported_at_once(
    twice_shown_frames: list[np.ndarray],
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    no_leaked_threads: None,
) -> None:
    log = EventLog()
    source = ListSource(twice_shown_frames, loop=True, interval=0.02)
    worker = _worker(source, scanner_settings, card_reader, log, debounce=3600)
    worker.start()
    try:
        assert log.wait_for(lambda: len(log.of("card")) == 1)
        worker.reset_debounce()
        assert log.wait_for(lambda: len(log.of("card")) == 2)
    finally:
        worker.stop()


def test_paused_decoding_reports_nothing_while_the_preview_goes_on(
    twice_shown_frames: list[np.ndarray],
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    no_leaked_threads: None,
) -> None:
    log = EventLog()
    source = ListSource(twice_shown_frames, loop=True, interval=0.005)
    worker = _worker(source, scanner_settings, card_reader, log, debounce=0.0)
    worker.pause_decoding(True)
    worker.start()
    try:
        # Two passes over the whole clip: the card is in view for a third of it.
        assert log.wait_for(lambda: worker.stats.frames > 2 * len(twice_shown_frames))
        assert log.of("card") == []
        decodes = worker.stats.decodes
        worker.pause_decoding(False)
        assert log.wait_for(lambda: len(log.of("card")) >= 1)
        assert worker.stats.decodes > decodes
    finally:
        worker.stop()


def test_camera_unplugged_mid_stream_is_reported_lost_then_back_and_reads_resume(
    twice_shown_frames: list[np.ndarray],
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    no_leaked_threads: None,
) -> None:
    log = EventLog()
    clock = FrameClock()
    # Unplugged during the empty stretch between the two appearances of the card.
    source = ListSource(twice_shown_frames, clock=clock, broken=lambda i: 45 <= i < 70)
    worker = _worker(source, scanner_settings, card_reader, log, debounce=2.5, clock=clock)
    worker.start()
    try:
        assert log.wait_for(lambda: worker.stats.camera_state == "ended", timeout=30)
        assert log.wait_for(lambda: len(log.of("card")) == 2)
    finally:
        worker.stop()
    assert log.kinds() == ["card", "camera_lost", "camera_back", "card"]
    assert source.opened == 2  # once at the start, once when back: no reopen loop


def test_stop_returns_within_a_second_even_while_waiting_to_reconnect(
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    event_log: EventLog,
    no_leaked_threads: None,
) -> None:
    frames = [np.zeros((720, 1280, 3), np.uint8)]
    source = ListSource(frames, broken=lambda i: True, backoff=Backoff(30.0, 30.0))
    worker = _worker(source, scanner_settings, card_reader, event_log)
    worker.start()
    assert event_log.wait_for(lambda: event_log.kinds() == ["camera_lost"])
    started = time.monotonic()
    worker.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert not worker.running
    assert worker.stats.camera_state == "stopped"


def test_stop_returns_within_a_second_while_a_video_plays(
    card_then_book_video: Path,
    scanner_settings: ScannerSettings,
    card_reader: CardReader,
    event_log: EventLog,
    no_leaked_threads: None,
) -> None:
    fds_before = _open_fds()
    worker = _worker(
        VideoFileSource(card_then_book_video), scanner_settings, card_reader, event_log
    )
    worker.start()
    assert event_log.wait_for(lambda: worker.stats.frames >= 5)
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 1.0
    assert not worker.running
    assert _open_fds() <= fds_before
    assert worker.stats.source_fps == pytest.approx(15, rel=0.5)
