"""The demo's window fits the screen it gets, in its orientation, and photographs unsheared."""

import pytest

from kiosk.demo.display import start_xvfb
from kiosk.terminal.launch import window_geometry
from kiosk.terminal.screen_size import window_manager_running, window_within


@pytest.mark.parametrize(
    ("screen", "wanted", "expected"),
    [
        ((1920, 1080), (1280, 800), (1280, 800)),  # fits as it is
        ((1080, 1920), (1280, 800), (800, 1280)),  # a portrait screen gets a portrait window
        ((1280, 800), (1280, 800), (1176, 736)),  # shrunk with a margin, whole multiples of 4
    ],
)
def test_demo_window_fits_the_screen_in_its_orientation(
    screen: tuple[int, int], wanted: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert window_within(screen, wanted) == expected


@pytest.mark.parametrize("screen", [(1366, 768), (1280, 800), (1081, 1917), (800, 600)])
def test_demo_window_rows_fill_whole_words_so_screenshots_are_not_sheared(
    screen: tuple[int, int],
) -> None:
    width, height = window_within(screen, (1280, 800))
    assert width % 4 == 0 and height % 4 == 0
    assert width <= screen[0] and height <= screen[1]


def test_without_a_window_manager_the_demo_covers_its_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bare X server (as on the kiosk PC): nobody can maximise the window, so the demo
    takes the whole screen as `kiosk run` does, not 1280x800 in black borders."""
    display = start_xvfb(1920, 1080)
    try:
        monkeypatch.setenv("DISPLAY", display.display)
        assert not window_manager_running()
        assert window_geometry(False, (1280, 800)) == ((1920, 1080), (0, 0))
    finally:
        display.stop()
