"""The kiosk's heartbeat: every minute, tell the backend it is alive (outbox, dead letters,
camera, settings version) and ask whether its settings changed (a thread; no Kivy here)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk import __version__
from kiosk.protocol import CameraState, HeartbeatRequest
from kiosk.terminal.client import BackendClient, BackendError
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.steering import SettingsFollower

log = logging.getLogger("kiosk.heartbeat")

# The scanner worker's states as the backend's console shows them.
CAMERA_STATES = {
    "live": CameraState.ok,
    "lost": CameraState.reconnecting,
    "ended": CameraState.no_camera,
    "stopped": CameraState.no_camera,
    "starting": CameraState.unknown,
}


def camera_state(scanner: object | None) -> CameraState:
    if scanner is None:
        return CameraState.no_camera
    stats = getattr(scanner, "stats", None)
    return CAMERA_STATES.get(str(getattr(stats, "camera_state", "")), CameraState.unknown)


class HeartbeatSender:
    """Sends a heartbeat at start and then every `interval` seconds until stopped."""

    def __init__(
        self,
        client: BackendClient,
        outbox: Outbox,
        kiosk_id: str,
        scanner: Callable[[], object | None],
        *,
        interval: float = 60.0,
        follower: SettingsFollower | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.kiosk_id = kiosk_id
        self.scanner = scanner
        self.interval = interval
        self.follower = follower
        self.sent = 0
        self._stopping = threading.Event()
        self._wake = threading.Event()  # beat now, not at the end of the interval
        self._thread: threading.Thread | None = None

    def beat(self) -> HeartbeatRequest:
        return HeartbeatRequest(
            kiosk_id=self.kiosk_id,
            outbox_depth=self.outbox.pending_count(),
            dead_letters=len(self.outbox.dead_letters()),
            camera=camera_state(self.scanner()),
            version=__version__,
            settings_version=self.follower.running_version if self.follower else None,
        )

    def send_once(self) -> bool:
        if not self.client.token:  # not enrolled yet: nothing to say it with
            return False
        try:
            self.client.heartbeat(self.beat())
        except BackendError as exc:
            log.info("heartbeat not delivered: %s", exc)
            return False
        except Exception as exc:  # the outbox file failing must not end the thread
            log.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)
            return False
        self.sent += 1
        return True

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Beat at once (the kiosk was just enrolled: the console sees it now)."""
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def follow_settings(self) -> None:
        """A conditional GET of the kiosk's settings: no cost while nothing changed."""
        if self.follower is None or not self.client.token:
            return
        try:
            self.follower.fetch(self.client, self.kiosk_id)
        except Exception as exc:  # a settings copy failing must not end the thread
            log.warning("settings check failed: %s: %s", type(exc).__name__, exc)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.send_once()
            self.follow_settings()
            self._wake.wait(self.interval)
            self._wake.clear()
