"""The read beep: one sound, loaded on first use; a kiosk without a sound card stays silent."""

from __future__ import annotations

import logging
from typing import Any

from kiosk.terminal.ui import theme

log = logging.getLogger("kiosk.ui")


class Beeper:
    """beep(kind) plays the read sound; False once the sound cannot play (then never again)."""

    def __init__(self) -> None:
        self._sound: Any = None
        self.working = True

    def beep(self, _kind: str) -> bool:
        if not self.working:
            return False
        try:
            from kivy.core.audio import SoundLoader

            if self._sound is None:
                self._sound = SoundLoader.load(str(theme.ASSETS / "sounds" / "read.wav"))
            if self._sound is not None:
                self._sound.stop()
                self._sound.play()
        except Exception as exc:  # a kiosk without a sound card still works
            log.info("no sound: %s", exc)
            self.working = False
        return self.working
