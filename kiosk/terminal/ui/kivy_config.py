"""Kivy's environment and Config for kiosk mode: set before the first other Kivy import."""

from __future__ import annotations

import os
from pathlib import Path


def configure_kivy(
    data_dir: Path,
    *,
    fullscreen: bool,
    size: tuple[int, int],
    touch_devices: bool = True,
    position: tuple[int, int] | None = None,
) -> None:
    """Environment and Config for kiosk mode; must run before the first Kivy import (which
    opens a window), so this module imports Kivy only inside."""
    kivy_home = data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    # SDL turns SIGTERM and SIGINT into a window-close request, which a kiosk refuses:
    # the launcher's own handlers stop the kiosk cleanly instead.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("graphics", "multisamples", "0")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    if position is not None:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(position[0]))
        Config.set("graphics", "top", str(position[1]))
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
    if not touch_devices:
        for option in list(Config.options("input")):
            Config.remove_option("input", option)
        Config.set("input", "mouse", "mouse")
