"""The operator's log files: one line per event, secrets masked, rotated, owner-only."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.logs import OperatorFormatter, OwnerOnlyFileHandler, RedactSecrets, setup_logging


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_file_and_stderr_get_the_same_single_escaped_masked_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_root_logging: None
) -> None:
    path = setup_logging(tmp_path / "log", "backend")
    log = logging.getLogger("kiosk.test")
    log.info("visit member=%s password=%s", "1900\nFORGED INFO line", "s3cret-pw")
    log.warning("second")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "member=1900\\nFORGED INFO line password=***" in lines[0]
    assert "s3cret-pw" not in path.read_text(encoding="utf-8")
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "kiosk.test" in line] == lines
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_file_rotates_by_size_and_every_rotation_stays_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.log"
    handler = OwnerOnlyFileHandler(path, maxBytes=1000, backupCount=2, encoding="utf-8")
    handler.setFormatter(OperatorFormatter("%(message)s"))
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("kiosk.test.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for n in range(100):
            logger.info("line %03d %s", n, "x" * 40)  # 49 bytes a line: about 5 files' worth
    finally:
        logger.removeHandler(handler)
        handler.close()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"]  # backupCount: older ones go
    for file in tmp_path.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        # Rotated once it reached the limit: never more than one line past it.
        assert file.stat().st_size < 1000 + 50, file.name
    assert path.read_text(encoding="utf-8").splitlines()[-1].startswith("line 099 ")
    newest_rotated = (tmp_path / "kiosk.log.1").read_text(encoding="utf-8").splitlines()
    current = path.read_text(encoding="utf-8").splitlines()
    assert int(newest_rotated[-1].split()[1]) + 1 == int(current[0].split()[1])  # none lost


def test_the_file_rotates_at_a_new_day_and_no_rotated_file_outlives_14_days(
    tmp_path: Path,
) -> None:
    path = tmp_path / "backend.log"
    now = [1_796_000_000.0]  # a moment in December 2026
    handler = OwnerOnlyFileHandler(
        path, maxBytes=1_000_000, backupCount=10, encoding="utf-8", clock=lambda: now[0]
    )
    handler.setFormatter(OperatorFormatter("%(message)s"))
    logger = logging.getLogger("kiosk.test.daily")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("staff login refused: user='petugas' from=10.0.0.66")
        now[0] += 86400  # the next day: a quiet backend still rotates
        logger.info("the next day")
        rotated = tmp_path / "backend.log.1"
        assert "petugas" in rotated.read_text() and "petugas" not in path.read_text()
        os.utime(rotated, (now[0] - 15 * 86400, now[0] - 15 * 86400))  # as if 15 days old
        now[0] += 86400
        logger.info("and the day after")
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["backend.log", "backend.log.1"]  # the 15-day-old one is gone
    assert "petugas" not in "".join(p.read_text() for p in tmp_path.iterdir())
