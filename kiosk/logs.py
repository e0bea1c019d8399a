"""Operator logs: one line per event, rotated files under var/log, never a secret."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# A last line of defence: whatever a caller passes, these never reach a log file.
_SECRET = re.compile(
    r"(?i)\b(password|passwd|pin|token|secret|authorization)(\"?\s*[:=]\s*\"?)([^\s\",}]+)"
)
_OURS: list[logging.Handler] = []


class RedactSecrets(logging.Filter):
    """Masks `password=...`, `pin: ...`, `token=...` and the like in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(log_dir: Path | str, name: str, level: int = logging.INFO) -> Path:
    """Log to `log_dir/name.log` (rotated at 5 MB, 5 kept) and to stderr."""
    directory = Path(log_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.log"
    root = logging.getLogger()
    root.setLevel(level)
    while _OURS:
        old = _OURS.pop()
        root.removeHandler(old)
        old.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler()
    for handler in (file_handler, stream_handler):
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RedactSecrets())
        _OURS.append(handler)
        root.addHandler(handler)
    return path
