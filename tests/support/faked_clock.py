"""Debian's libfaketime under a running backend: a spec file the server re-reads, so a test
moves the backend's wall clock (not its event loop's monotonic clock) while it runs."""

from __future__ import annotations

from pathlib import Path

FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def faked_clock(directory: Path) -> tuple[Path, dict[str, str]]:
    """The spec file (write '+61m' or '+3d' to it to move the clock) and the server's env."""
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
