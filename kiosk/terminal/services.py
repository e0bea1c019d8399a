"""What the kiosk app talks to: backend client, outbox and sender, scanner, kiosk state."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.cards import CardReader
from kiosk.config import Settings
from kiosk.terminal.client import BackendClient
from kiosk.terminal.outbox import Outbox, open_outbox
from kiosk.terminal.outbox_sender import OutboxSender
from kiosk.terminal.state import KioskState

if TYPE_CHECKING:
    from kiosk.terminal.scanner.worker import ScanEvent, ScannerWorker

log = logging.getLogger("kiosk.launch")


class ScannerListener(Protocol):
    """The app's side of the scanner: called from the scanner thread."""

    def scanner_event(self, event: ScanEvent) -> None: ...

    def scanner_frame(self) -> None: ...


@dataclass
class ScannerLink:
    """The scanner's callbacks, bound late: the worker is built before the app that listens
    to it (the app needs the services first). Events before the binding are dropped."""

    listener: ScannerListener | None = None

    def event(self, event: ScanEvent) -> None:
        if self.listener is not None:
            self.listener.scanner_event(event)

    def frame(self) -> None:
        if self.listener is not None:
            self.listener.scanner_frame()


@dataclass
class Services:
    """What the app talks to; built by build_services (or a test) and closed on stop."""

    client: BackendClient
    outbox: Outbox
    sender: OutboxSender | None = None
    scanner: ScannerWorker | None = None  # None without a camera
    # Started with `camera = "none"` (or `--camera none`): the keypad is the only way in, and
    # Welcome never asks for a card. A camera that failed to open is not this (a banner).
    keypad_only: bool = False
    state: KioskState | None = None
    link: ScannerLink = field(default_factory=ScannerLink)

    def bind(self, listener: ScannerListener) -> None:
        """Send the scanner's events and frames to `listener` (the app) from now on."""
        self.link.listener = listener

    def close(self) -> None:
        self.client.close()
        self.outbox.close()


def build_services(
    settings: Settings, camera: str | None, *, demo_fallback: bool = False
) -> Services:
    """Client, outbox and its sender, scanner worker, kiosk state; bind() them to the app."""
    data = Path(settings.kiosk.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    outbox = open_outbox(data / "outbox.sqlite3")
    services = Services(
        client=BackendClient(settings.kiosk),
        outbox=outbox,
        sender=OutboxSender(outbox, BackendClient(settings.kiosk)),
        state=KioskState(data / "kiosk-state.json"),
    )
    scanner_settings = settings.kiosk.scanner
    spec = camera or scanner_settings.camera
    if spec == "none":  # a keypad-only kiosk
        services.keypad_only = True
        return services
    try:
        services.scanner = _scanner(settings, spec, services.link, demo_fallback)
    except Exception as exc:  # the keypad still works without a camera
        log.error("camera %r not available: %s", spec, exc)
    return services


def _scanner(
    settings: Settings, spec: str, link: ScannerLink, demo_fallback: bool
) -> ScannerWorker:
    from kiosk.terminal.scanner.chain import build_chain
    from kiosk.terminal.scanner.gate import build_gate
    from kiosk.terminal.scanner.sources import open_source
    from kiosk.terminal.scanner.worker import ScannerWorker

    scanner_settings = settings.kiosk.scanner
    source = open_source(
        spec,
        scanner_settings.width,
        scanner_settings.height,
        scanner_settings.loop_video,
        demo_fallback=demo_fallback,
    )
    return ScannerWorker(
        source,
        build_chain(scanner_settings),
        CardReader(settings.cards.pattern),
        debounce_seconds=scanner_settings.debounce_seconds,
        on_event=link.event,
        on_frame=link.frame,
        gate=build_gate(scanner_settings),
    )
