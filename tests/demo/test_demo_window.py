"""The demo's window fits the screen it gets, in its orientation, and photographs unsheared."""

import pytest

from kiosk.terminal.screen_size import window_within


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
