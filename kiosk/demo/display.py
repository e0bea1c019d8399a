"""A virtual X display (Xvfb) for machines without a screen: demo, UI tests, bench."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from kiosk.demo.child_process import die_with_parent


class NoDisplay(RuntimeError):
    """Neither a display nor Xvfb is available."""


@dataclass
class VirtualDisplay:
    process: subprocess.Popen[bytes]
    display: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def have_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def start_xvfb(width: int = 1920, height: int = 1920, depth: int = 24) -> VirtualDisplay:
    """Start Xvfb on a free display number; it tells us which through -displayfd."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise NoDisplay(
            "no display and no Xvfb: install it (apt-get install xvfb) or run on a screen"
        )
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{width}x{height}x{depth}",
            "-nolisten",
            "tcp",
            "-noreset",
            "+extension",
            "GLX",
        ],
        pass_fds=(write_end,),
        preexec_fn=die_with_parent(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    # Read up to the newline only: closing the pipe early would kill Xvfb.
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        process.kill()
        raise NoDisplay("Xvfb did not start")
    return VirtualDisplay(process, f":{number.decode().strip()}")
