"""Operator logs: one line per event, rotated files under var/log, never a secret."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Rotated log files are deleted after this many days (README, "Privacy").
LOG_KEEP_DAYS = 14

# A last line of defence: whatever a caller passes, these never reach a log file.
_SECRET = re.compile(
    r"(?i)\b(password|passwd|pin|token|secret|authorization)(\"?\s*[:=]\s*\"?)([^\s\",}]+)"
)
_OURS: list[logging.Handler] = []
# Line breaks, NUL, ANSI escapes, other control and bidi/format characters: any of them
# in a logged value (a path, a header, a name) could forge or hide a line.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_for_log(text: str) -> str:
    """`text` on one line with nothing that a terminal or a log reader would act on:
    CR/LF/TAB as \\r \\n \\t, other control and format characters as \\xNN / \\uNNNN."""

    def visible(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in _NAMED:
            return _NAMED[ch]
        return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"

    return _UNSAFE.sub(visible, text)


class OperatorFormatter(logging.Formatter):
    """One line per record, every value escaped; a traceback follows on lines indented
    with `  | ` so none of them can pass for a record of its own."""

    def format(self, record: logging.LogRecord) -> str:
        # One instance serves both handlers (file and stderr): format each record once.
        done = record.__dict__.get("_kiosk_line")
        if done is not None and done[0] is self:
            return str(done[1])
        line = super().format(record)
        record._kiosk_line = (self, line)
        return line

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = escape_for_log(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging's name)
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join(f"  | {escape_for_log(line)}" for line in text.splitlines())


class RedactSecrets(logging.Filter):
    """Masks `password=...`, `pin: ...`, `token=...` and the like in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get("_kiosk_redacted"):
            return True  # one instance serves every handler: each record is masked once
        record._kiosk_redacted = True
        message = record.getMessage()
        redacted = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RepeatLimit(logging.Filter):
    """At most `per_minute` records of one kind a minute: a flood (tracebacks, refused
    connections, one request repeated) cannot rotate the operator's history away.

    A kind is the logger, level and message template; below WARNING also the values but
    for timings (so each kiosk's and each path's access lines count apart, and only the
    same request over and over is cut). The last one let through says so; the first one
    after the minute says how many were left out. One instance serves every handler: each
    record is judged once."""

    def __init__(self, per_minute: int = 60, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.per_minute = per_minute
        self._clock = clock
        self._kinds: dict[tuple[str, int, str], list[float]] = {}  # start, passed, left out
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, "_kiosk_repeat_verdict", None)
        if verdict is not None:
            return bool(verdict)
        verdict = self._judge(record)
        record._kiosk_repeat_verdict = verdict
        return verdict

    def _judge(self, record: logging.LogRecord) -> bool:
        kind: tuple[str, int, str] = (record.name, record.levelno, str(record.msg))
        if record.levelno < logging.WARNING and isinstance(record.args, tuple):
            values = "\x1f".join(str(a) for a in record.args if not isinstance(a, float))
            kind = (record.name, record.levelno, f"{record.msg}\x1f{values}")
        now = self._clock()
        with self._lock:
            entry = self._kinds.get(kind)
            if entry is None or now - entry[0] >= 60.0:
                left_out = int(entry[2]) if entry else 0
                if len(self._kinds) > 2000:  # many kinds, each rare: start afresh
                    self._kinds.clear()
                entry = self._kinds[kind] = [now, 0.0, 0.0]
                if left_out:
                    record.msg = f"({left_out} more like this were not logged) {record.msg}"
            entry[1] += 1
            if entry[1] <= self.per_minute:
                if entry[1] == self.per_minute:
                    record.msg = f"{record.msg} (repeated {self.per_minute} times in a minute: "
                    record.msg += "more like it are counted, not logged, for the rest of it)"
                return True
            entry[2] += 1
            return False


class OwnerOnlyFileHandler(logging.handlers.RotatingFileHandler):
    """A rotated log file created 0600 (logs name members and kiosks), rotations too.

    Rotates at a new day (local time) and once the file has reached maxBytes, by the
    stream's position (the standard handler formats every record a second time and stats
    the file twice to decide); rotated files older than `keep_days` are deleted, so no log
    line outlives that however quiet the backend is."""

    def __init__(
        self,
        filename: Path | str,
        *,
        keep_days: int = LOG_KEEP_DAYS,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        self.keep_days = keep_days
        self.clock = clock
        super().__init__(filename, **kwargs)
        started = os.stat(self.baseFilename).st_mtime if os.path.exists(self.baseFilename) else None
        self._day = self._day_of(started if started is not None else clock())

    @staticmethod
    def _day_of(moment: float) -> str:
        return time.strftime("%Y-%m-%d", time.localtime(moment))

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 (logging's name)
        if self.stream is None:
            self.stream = self._open()
        if self._day_of(self.clock()) != self._day and self.stream.tell() > 0:
            return True
        return bool(self.maxBytes) and self.stream.tell() >= self.maxBytes

    def doRollover(self) -> None:  # noqa: N802 (logging's name)
        super().doRollover()
        self._day = self._day_of(self.clock())
        oldest = self.clock() - self.keep_days * 86400
        for number in range(1, self.backupCount + 1):
            rotated = f"{self.baseFilename}.{number}"
            try:
                if os.stat(rotated).st_mtime < oldest:
                    os.remove(rotated)
            except FileNotFoundError:
                continue

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115


def _make_owner_only_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents 0700; existing ones are left as they are."""
    missing = []
    for path in (directory, *directory.parents):
        if path.exists():
            break
        missing.append(path)
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
    directory.mkdir(parents=True, exist_ok=True)


def setup_logging(log_dir: Path | str, name: str, level: int = logging.INFO) -> Path:
    """Log to `log_dir/name.log` (rotated daily and at 5 MB, kept 14 days, at most 10
    files) and to stderr."""
    directory = Path(log_dir)
    _make_owner_only_dirs(directory)
    path = directory / f"{name}.log"
    root = logging.getLogger()
    root.setLevel(level)
    while _OURS:
        old = _OURS.pop()
        root.removeHandler(old)
        old.close()
    file_handler = OwnerOnlyFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=10, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler()
    repeats = RepeatLimit()
    formatter = OperatorFormatter(FORMAT)
    redact = RedactSecrets()
    for handler in (file_handler, stream_handler):
        handler.setFormatter(formatter)
        handler.addFilter(repeats)
        handler.addFilter(redact)
        _OURS.append(handler)
        root.addHandler(handler)
    return path
