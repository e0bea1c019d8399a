"""Debian's libfaketime under a running backend: a spec file the server re-reads, so a test
moves the backend's wall clock (not its event loop's monotonic clock) while it runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SHARED_MEMORY = Path("/dev/shm")
# libfaketime's shared memory and semaphore, named by the faked process's pid.
FAKETIME_FILE = re.compile(r"^(?:sem\.)?faketime_(?:shm|sem)_(\d+)$")


def sweep_stale_faketime_files() -> None:
    """Remove libfaketime's files whose process is gone: a faked process killed with SIGKILL
    leaves them, and a later process given the same pid then fails in sem_open ("File
    exists") before the backend even starts."""
    if not SHARED_MEMORY.is_dir():
        return
    for path in SHARED_MEMORY.iterdir():
        match = FAKETIME_FILE.match(path.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            try:
                os.unlink(path)
            except OSError:
                pass  # another test session swept it first


def faked_clock(directory: Path) -> tuple[Path, dict[str, str]]:
    """The spec file (write '+61m' or '+3d' to it to move the clock) and the server's env."""
    sweep_stale_faketime_files()
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / "faketime"
    spec.write_text("+0\n", encoding="utf-8")
    return spec, {
        "LD_PRELOAD": str(FAKETIME_LIB),
        "FAKETIME_TIMESTAMP_FILE": str(spec),
        "FAKETIME_NO_CACHE": "1",
        # The event loop's sleeps stay real; only the wall clock (the backend's clock) moves.
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
