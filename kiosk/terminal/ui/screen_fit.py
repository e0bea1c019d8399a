"""Keeps the kiosk window on the real screen: all of it in kiosk mode, wholly inside it for the
demo, with or without a window manager, and again after the resolution changes."""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.terminal.screen_size import XScreen

log = logging.getLogger("kiosk.ui")
CHECK_SECONDS = 2.0  # how soon a resolution change is followed


class ScreenFit:
    def __init__(self, *, cover: bool) -> None:
        self.cover = cover
        self._screen = XScreen()
        self._event: Any = None

    def start(self) -> None:
        if self._screen.size() is None:
            return  # not X11 (or no libX11): SDL's own fullscreen is all there is
        self.check()
        self._event = Clock.schedule_interval(lambda _dt: self.check(), CHECK_SECONDS)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._screen.close()

    def check(self) -> None:
        screen = self._screen.size()
        if screen is None:
            return
        left, top = int(Window.left), int(Window.top)
        width, height = (int(v) for v in Window.system_size)
        if self.cover:
            target = (0, 0, *screen)
        else:
            w, h = min(width, screen[0]), min(height, screen[1])
            x = min(max(0, left), screen[0] - w)
            y = min(max(0, top), screen[1] - h)
            target = (x, y, w, h)
        if (left, top, width, height) == target:
            return
        if Window.fullscreen:
            # SDL's desktop fullscreen keeps the size the screen had at start and ignores a
            # new size (on a bare X session Kivy then reports a size the X window does not
            # have). Leave it; a borderless window at 0,0 the screen's size covers it as well,
            # and only once fullscreen is off does a size take (a frame later).
            log.info("screen now %dx%d: leaving SDL fullscreen to follow it", *screen)
            Window.fullscreen = False
            Clock.schedule_once(lambda _dt: self.check(), 0.3)
            return
        log.info(
            "window %dx%d+%d+%d on a %dx%d screen: now %dx%d+%d+%d",
            width, height, left, top, *screen, target[2], target[3], target[0], target[1],
        )  # fmt: skip
        if self.cover:
            Window.borderless = True
        Window.size = (target[2], target[3])  # system pixels
        Window.left, Window.top = target[0], target[1]
