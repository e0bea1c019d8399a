"""One visual language for every screen: colours, type scale, spacing and touch targets."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[3] / "assets"
MONO_FONT = str(ASSETS / "fonts" / "JetBrainsMono-Bold.ttf")


def hex_colour(value: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    value = value.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


# Colours: every text/background pair used on screen is listed in CONTRAST_PAIRS and
# checked to be at least 4.5:1 (WCAG AA) by the tests.
PAPER = "#F6F3EC"  # screen background: warm paper, less glare than white
SURFACE = "#FFFFFF"  # cards, unselected chips
INK = "#1C2730"  # body text
MUTED = "#4A5863"  # secondary text
PRIMARY = "#0B5D7A"  # the library's blue-teal: buttons, selected chips, top bar
ON_PRIMARY = "#FFFFFF"
ACCENT = "#F2B33D"  # guide frame and read box on the camera view (not used for text)
DANGER = "#A4262C"  # notices that stop the patron
SUCCESS = "#1B6E3C"
SUCCESS_BG = "#E2F1E6"  # the internet panel when it is on
WARNING_BG = "#FFF1CC"  # banner background
WARNING_INK = "#5C3D00"
OVERLAY = "#1C2730"
TILE_EDGE = "#8FA3AE"  # outlines: a credential group's tile, a disabled button (not text)
CHIP_EDGE = "#4A5863"  # an unselected answer's edge: 3:1 or more against paper (WCAG 1.4.11)
DISABLED_BG = "#E1E6E9"  # a button that cannot be pressed yet
DISABLED_INK = MUTED

CONTRAST_PAIRS = [
    (INK, PAPER),
    (MUTED, PAPER),
    (INK, SURFACE),
    (PRIMARY, SURFACE),
    (PRIMARY, PAPER),
    (ON_PRIMARY, PRIMARY),
    (ON_PRIMARY, DANGER),
    (ON_PRIMARY, SUCCESS),
    (WARNING_INK, WARNING_BG),
    (SUCCESS, SUCCESS_BG),
    (ON_PRIMARY, OVERLAY),
    (DISABLED_INK, DISABLED_BG),
]

# The colours by name, as the .kv files read them (app.palette[...]): the normal theme, and
# the high-contrast one staff switch on in maintenance (black on white, 7:1 or more).
NORMAL = {
    name: value
    for name, value in globals().items()
    if name.isupper() and isinstance(value, str) and value.startswith("#")
}
HIGH_CONTRAST = NORMAL | {
    "PAPER": "#FFFFFF",
    "SURFACE": "#FFFFFF",
    "INK": "#000000",
    "MUTED": "#000000",
    "PRIMARY": "#002F47",
    "DANGER": "#6B0010",
    "SUCCESS": "#003D1A",
    "SUCCESS_BG": "#FFFFFF",
    "WARNING_BG": "#FFFFFF",
    "WARNING_INK": "#000000",
    "OVERLAY": "#000000",
    "TILE_EDGE": "#000000",
    "CHIP_EDGE": "#000000",
    "DISABLED_BG": "#D9D9D9",
    "DISABLED_INK": "#000000",
}


def palette(high_contrast: bool) -> dict[str, str]:
    return dict(HIGH_CONTRAST if high_contrast else NORMAL)


# Type scale, in pixels at the reference size (the shorter side of the window = 1080 px);
# the app multiplies by `app.u` so 1280x800 and portrait 1080x1920 keep proportions.
TYPE = {
    "display": 96,  # username and password
    "title": 54,
    "heading": 40,
    "body": 32,
    "label": 28,
    "small": 24,
}
SPACING = 24
RADIUS = 18
# 15 mm at the 96 dpi Xvfb reports, and never smaller than this fraction of the screen.
TOUCH_MM = 15.0
TOUCH_REF = 88


def relative_luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = hex_colour(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)
