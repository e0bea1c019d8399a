"""`kiosk run` and `kiosk demo` as processes on a bare X session (Xvfb, no window manager),
portrait and landscape: the kiosk window covers the real screen from the start and after a
resolution change (Xvfb cannot change its size: that test runs a resizeable Xephyr inside
Xvfb, whose screen changes size through RandR when its host window is resized), the demo's
fits the screen it gets, SIGTERM and SIGINT end both cleanly, and the demo's embedded
backend never outlives it, not even a SIGKILL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import tomlkit
from support.needs import needs, unavailable

from kiosk.demo.child_process import die_with_parent
from kiosk.demo.display import VirtualDisplay, start_xvfb
from kiosk.ports import free_port

pytestmark = [
    pytest.mark.ui,
    needs(
        not (shutil.which("xwininfo") and shutil.which("xdotool")),
        "needs xwininfo and xdotool (x11-utils, xdotool)",
    ),
]
REPO = Path(__file__).resolve().parents[3]
NAME = "Perpustakaan Provinsi Kepulauan Bangka Belitung"  # the window's title
SCREENS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
SHOTS = REPO / "tests" / "artifacts" / "window"


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> Iterator[tuple[str, VirtualDisplay]]:
    width, height = SCREENS[request.param]
    display = start_xvfb(width, height)
    yield request.param, display
    display.stop()


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kiosk_window(display: str) -> str | None:
    """The id of the top-level window titled with the library's name, from xwininfo."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-children"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(rf'(0x[0-9a-f]+) "{NAME}"', tree)
    return found.group(1) if found else None


def geometry(display: str, window: str) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the window on the screen, from xwininfo."""
    info = subprocess.run(
        ["xwininfo", "-id", window],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    value = {
        key: int(re.search(rf"{key}:\s+(-?\d+)", info).group(1))  # type: ignore[union-attr]
        for key in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")
    }
    return (
        value["Absolute upper-left X"],
        value["Absolute upper-left Y"],
        value["Width"],
        value["Height"],
    )


def write_config(tmp_path: Path, **kiosk: object) -> Path:
    data = tomlkit.parse((REPO / "config.toml").read_text(encoding="utf-8"))
    data["kiosk"]["data_dir"] = str(tmp_path / "var")  # type: ignore[index]
    data["kiosk"]["backend_url"] = f"http://127.0.0.1:{free_port()}"  # type: ignore[index]
    data["kiosk"]["sound"] = False  # type: ignore[index]
    data["kiosk"]["scanner"]["camera"] = "none"  # type: ignore[index]
    data["library"]["logo"] = str(REPO / "assets" / "logo.png")  # type: ignore[index]
    for key, value in kiosk.items():
        data["kiosk"][key] = value  # type: ignore[index]
    data["backend"]["log_dir"] = str(tmp_path / "var" / "log")  # type: ignore[index]
    path = tmp_path / "config.toml"
    path.write_text(tomlkit.dumps(data), encoding="utf-8")
    return path


def start(display: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DISPLAY": display, "KIVY_NO_ARGS": "1"}
    env.pop("KIVY_HOME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"{sig.name} did not end the process:\n{output[-3000:]}") from None
    return process.returncode, output


def test_kiosk_covers_a_bare_screen_and_stops_on_a_signal(
    screen: tuple[str, VirtualDisplay], tmp_path: Path
) -> None:
    orientation, display = screen
    config = write_config(tmp_path, fullscreen=True)
    process = start(display.display, "run", "--config", str(config))
    try:
        window = wait_until(lambda: kiosk_window(display.display), 30, "the kiosk window")
        full = (0, 0, *SCREENS[orientation])
        wait_until(lambda: geometry(display.display, window) == full, 10, f"window at {full}")
    finally:
        sig = signal.SIGTERM if orientation == "portrait" else signal.SIGINT
        code, output = stop(process, sig)
    assert code == (0 if sig is signal.SIGTERM else 130), output[-3000:]
    log = (tmp_path / "var" / "log" / "kiosk.log").read_text(encoding="utf-8")
    assert f"kiosk stopped by {sig.name}; outbox closed" in log
    assert "window close refused" not in log


def backend_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"backend" in argv and str(port).encode() in argv:
            return int(entry.name)
    return None


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(") ")[-1][:1] != "Z"


def test_demo_fits_the_screen_and_its_backend_never_outlives_it(
    screen: tuple[str, VirtualDisplay], tmp_path: Path
) -> None:
    orientation, display = screen
    config = write_config(tmp_path)
    port = free_port()
    process = start(
        display.display, "demo", "--config", str(config), "--port", str(port), "--camera", "none"
    )
    ended = False
    try:
        # The demo imports members and seeds three weeks of visits first: slow on a busy machine.
        pid = wait_until(lambda: backend_pid(port), 180, "the embedded backend")
        window = wait_until(lambda: kiosk_window(display.display), 120, "the demo window")
        width, height = SCREENS[orientation]
        x, y, w, h = geometry(display.display, window)  # type: ignore[arg-type]
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height, (x, y, w, h)
        assert (w < h) == (width < height)  # a portrait screen gets a portrait window
        # The demo kiosk was enrolled with a code: its access is in its data directory.
        access = tmp_path / "var" / "demo" / "access.json"
        assert access.stat().st_mode & 0o777 == 0o600
        if orientation == "portrait":
            code, output = stop(process, signal.SIGTERM)
            ended = True
            assert code == 0, output[-3000:]
            assert "window close refused" not in output
            assert "demo kiosk enrolled as kiosk-pintu-utama" in output
            assert f"kiosk enroll http://127.0.0.1:{port} CODE" in output
        else:
            process.kill()  # SIGKILL: no handler runs; the kernel tells the backend
            process.wait(timeout=10)
            ended = True
        wait_until(lambda: not alive(pid), 15, "the backend gone")  # type: ignore[arg-type]
    finally:
        if not ended:
            process.kill()
            process.wait()


@pytest.fixture
def resizable_screen() -> Iterator[tuple[VirtualDisplay, VirtualDisplay]]:
    """(host Xvfb, a resizeable Xephyr on it starting landscape): no window manager on either."""
    if not shutil.which("Xephyr"):
        unavailable("needs Xephyr (xserver-xephyr) for a screen that changes size")
    host = start_xvfb(1920, 1920)
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xephyr", "-displayfd", str(write_end), "-screen", "1920x1080", "-resizeable"]
        + ["-nolisten", "tcp", "-noreset", "-ac"],
        env={**os.environ, "DISPLAY": host.display},
        pass_fds=(write_end,),
        preexec_fn=die_with_parent(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        number = b""
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    nested = VirtualDisplay(process, f":{number.decode().strip()}")  # type: ignore[arg-type]
    yield host, nested
    nested.stop()
    host.stop()


def root_size(display: str) -> tuple[int, int]:
    info = subprocess.run(
        ["xwininfo", "-root"], env={**os.environ, "DISPLAY": display}, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    width = int(re.search(r"Width:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    height = int(re.search(r"Height:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    return width, height


def change_resolution(host: VirtualDisplay, nested: VirtualDisplay, size: tuple[int, int]) -> None:
    """Resize Xephyr's window on the host: its screen takes the new size (a RandR change)."""
    env = {**os.environ, "DISPLAY": host.display}
    window = subprocess.run(
        ["xdotool", "search", "--name", "Xephyr"], env=env, capture_output=True, text=True
    ).stdout.split()[0]
    subprocess.run(["xdotool", "windowsize", window, *map(str, size)], env=env, check=True)
    wait_until(lambda: root_size(nested.display) == size, 10, f"the screen at {size}")


def screenshot(display: str, path: Path) -> Path:
    """The whole screen as PNG, through xwd (x11-apps); its ZPixmap at 32 bits per pixel."""
    raw = subprocess.run(
        ["xwd", "-root", "-silent"], env={**os.environ, "DISPLAY": display},
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    header = struct.unpack(">25I", raw[:100])
    header_size, width, height = header[0], header[4], header[5]
    lsb_first, bits, line, colours = header[7] == 0, header[11], header[12], header[19]
    assert bits == 32, f"xwd gave {bits} bits per pixel"
    start = header_size + colours * 12
    pixels = np.frombuffer(raw[start : start + line * height], dtype=np.uint8)
    image = pixels.reshape(height, line)[:, : width * 4].reshape(height, width, 4)
    bgr = image[:, :, :3] if lsb_first else image[:, :, :0:-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.ascontiguousarray(bgr))
    return path


def test_kiosk_follows_a_resolution_change_on_a_bare_screen(
    resizable_screen: tuple[VirtualDisplay, VirtualDisplay], tmp_path: Path
) -> None:
    host, nested = resizable_screen
    config = write_config(tmp_path, fullscreen=True)
    process = start(nested.display, "run", "--config", str(config))
    try:
        window = wait_until(lambda: kiosk_window(nested.display), 60, "the kiosk window")
        for size in ((1920, 1080), (1080, 1920), (1920, 1080)):
            if root_size(nested.display) != size:
                change_resolution(host, nested, size)
            full = (0, 0, *size)
            # ScreenFit looks every 2 s; leaving SDL's fullscreen takes a frame more.
            placed = lambda full=full: geometry(nested.display, window) == full  # noqa: E731
            wait_until(placed, 10, f"window at {full}")
            time.sleep(1.0)  # the layout for the new shape draws on the next frames
            name = "portrait" if size[0] < size[1] else "landscape"
            shot = screenshot(nested.display, SHOTS / f"after-change-{name}.png")
            dark = cv2.imread(str(shot), cv2.IMREAD_GRAYSCALE)
            # Drawn to the edges: the top bar spans the width, the page fills the height.
            assert dark is not None and dark.shape == (size[1], size[0])
            assert dark[5, size[0] - 5] < 140, "the top bar does not reach the right edge"
            assert dark[size[1] - 5, 5] > 200, "the bottom is not the page's background"
    finally:
        code, output = stop(process, signal.SIGTERM)
    assert code == 0, output[-3000:]
    log = (tmp_path / "var" / "log" / "kiosk.log").read_text(encoding="utf-8")
    assert "leaving SDL fullscreen to follow it" in log
