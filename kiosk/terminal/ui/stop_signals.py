"""SIGTERM and SIGINT stop the kiosk on the Kivy loop, as staff's "exit" does."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("kiosk.launch")


def stop_on_signals(app: Any) -> list[str]:
    """SIGTERM (systemd stop) and SIGINT (Ctrl-C) stop the kiosk as staff's "exit" does: on
    the Kivy loop, so on_stop stops the scanner and the sender and finishes an outbox write.
    Returns the list that receives the signal's name."""
    import signal

    from kivy.clock import Clock

    received: list[str] = []

    def handle(number: int, _frame: Any) -> None:
        if not received:
            received.append(signal.Signals(number).name)
            log.info("%s received: stopping the kiosk", received[0])
            Clock.schedule_once(lambda _dt: app.stop(), 0)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, handle)
    return received
