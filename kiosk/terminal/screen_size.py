"""The real screen's size on X11, read from the root window with libX11: it needs no window
manager and no Kivy (the launcher sizes the demo's window before Kivy opens one)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("kiosk.screen")


class XScreen:
    """One connection to the X server, kept open to look at the root window's size cheaply
    (one round trip); the root window follows a resolution change (RandR)."""

    def __init__(self) -> None:
        self._x11: ctypes.CDLL | None = None
        self._display: int | None = None
        self._root = 0
        if not os.environ.get("DISPLAY"):
            return
        name = ctypes.util.find_library("X11") or "libX11.so.6"
        try:
            x11 = ctypes.CDLL(name)
        except OSError as exc:
            log.info("no libX11 (%s): the window keeps the size SDL gives it", exc)
            return
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x11.XGetGeometry.argtypes = [ctypes.c_void_p, ctypes.c_ulong, *[ctypes.c_void_p] * 7]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(None)
        if not display:
            return
        self._x11, self._display = x11, display
        self._root = x11.XDefaultRootWindow(display)

    def size(self) -> tuple[int, int] | None:
        """(width, height) of the screen in pixels, or None off X11."""
        if self._x11 is None or self._display is None:
            return None
        root = ctypes.c_ulong()
        x, y = ctypes.c_int(), ctypes.c_int()
        width, height, border, depth = (ctypes.c_uint() for _ in range(4))
        ok = self._x11.XGetGeometry(
            self._display,
            self._root,
            *(ctypes.byref(v) for v in (root, x, y, width, height, border, depth)),
        )
        if not ok:
            return None
        return int(width.value), int(height.value)

    def has_window_manager(self) -> bool:
        """Whether a window manager runs (it sets _NET_SUPPORTING_WM_CHECK on the root window,
        EWMH); without one nobody moves, frames or maximises the demo's window."""
        if self._x11 is None or self._display is None:
            return False
        x11 = self._x11
        x11.XInternAtom.restype = ctypes.c_ulong
        x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        atom = x11.XInternAtom(self._display, b"_NET_SUPPORTING_WM_CHECK", 1)
        if not atom:
            return False  # no client ever named it: no EWMH window manager
        x11.XGetWindowProperty.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
            ctypes.c_int, ctypes.c_ulong, *[ctypes.c_void_p] * 5,
        ]  # fmt: skip
        x11.XFree.argtypes = [ctypes.c_void_p]
        kind, fmt = ctypes.c_ulong(), ctypes.c_int()
        items, after = ctypes.c_ulong(), ctypes.c_ulong()
        data = ctypes.c_void_p()
        status = x11.XGetWindowProperty(
            self._display, self._root, atom, 0, 1, 0, 0,
            *(ctypes.byref(v) for v in (kind, fmt, items, after, data)),
        )  # fmt: skip
        if data.value:
            x11.XFree(data)
        return status == 0 and items.value > 0

    def close(self) -> None:
        if self._x11 is not None and self._display is not None:
            self._x11.XCloseDisplay(self._display)
        self._x11 = self._display = None


def screen_size() -> tuple[int, int] | None:
    screen = XScreen()
    try:
        return screen.size()
    finally:
        screen.close()


def window_manager_running() -> bool:
    screen = XScreen()
    try:
        return screen.has_window_manager()
    finally:
        screen.close()


def window_within(screen: tuple[int, int], wanted: tuple[int, int]) -> tuple[int, int]:
    """A window for a screen of `screen` pixels: `wanted` turned to the screen's orientation
    (a portrait screen gets a portrait window), shrunk to fit with a margin if needed.
    Both sides are whole multiples of 4: a row of RGB pixels then fills whole 4-byte words,
    which is how OpenGL packs a screenshot (an odd width such as 1177 came out sheared)."""
    sw, sh = screen
    w, h = sorted(wanted, reverse=sw >= sh)
    scale = min(1.0, sw * 0.96 / w, sh * 0.92 / h)
    return int(w * scale) // 4 * 4, int(h * scale) // 4 * 4
