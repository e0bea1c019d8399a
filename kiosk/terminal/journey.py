"""Runs the flow's commands: lookups and check-ins on I/O threads, outbox writes on the disk
thread, every result handed back to the main thread as a flow event. No Kivy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kiosk.terminal.client import BackendError, BackendRejected, RateLimited
from kiosk.terminal.outbox import OutboxError
from kiosk.terminal.services import Services
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import (
    Beep,
    Checkin,
    Command,
    Credential,
    Lookup,
    QueueVisit,
    SendGuestVisit,
)

log = logging.getLogger("kiosk.ui")

FlowEvent = Callable[[Flow], list[Command]]


class JourneyRunner:
    """Given the services, the current flow, a "run this on the main thread" callable and a
    beep callback; `run(commands)` is called on the main thread only."""

    def __init__(
        self,
        services: Services,
        flow: Callable[[], Flow],
        post: Callable[[Callable[[], None]], None],
        beep: Callable[[str], None],
    ) -> None:
        self.services = services
        self._flow = flow  # a config reload replaces the app's flow: always ask
        self._post = post
        self._beep = beep
        # Patrons' calls and outbox writes have their own threads, so a backend that hangs
        # cannot hold up the outbox (and the staff screens have theirs, in the app).
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kiosk-io")
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-outbox")

    def run(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, Lookup):
                failed = _lookup_failed(command.journey)
                self._pool.submit(self._guarded, self._lookup, command, failed)
            elif isinstance(command, Checkin):
                failed = _checkin_failed(command.journey)
                self._pool.submit(self._guarded, self._checkin, command, failed)
            elif isinstance(command, SendGuestVisit):
                failed = _guest_failed(command.journey)
                self._pool.submit(self._guarded, self._guest_visit, command, failed)
            elif isinstance(command, QueueVisit):
                failed = _queue_failed(command.journey)
                self._disk.submit(self._guarded, self._queue, command, failed)
            elif isinstance(command, Beep):
                self._beep(command.kind)

    def shutdown(self) -> None:
        """Calls in flight are dropped; an outbox write in progress is finished, not cut."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._disk.shutdown(wait=True)

    def _on_main(self, event: FlowEvent) -> None:
        self._post(lambda: self.run(event(self._flow())))

    # Worker-thread side: only these touch the network or the disk.

    def _guarded(self, task: Callable[[Any], None], command: Any, failed: FlowEvent) -> None:
        """Run a background task; an unexpected error is logged and reaches the flow as a
        failure (the patron is told, the guestbook kept), never lost in a future."""
        try:
            task(command)
        except Exception:
            log.exception("%s failed unexpectedly", task.__name__.lstrip("_"))
            self._on_main(failed)

    def _lookup(self, command: Lookup) -> None:
        try:
            answer = self.services.client.lookup(command.card, entry=command.entry)
        except BackendError as exc:
            code = "unreachable" if unreachable(exc) else exc.code
            log.info("lookup failed: %s", code)
            self._on_main(lambda flow: flow.lookup_failed(command.journey, code))
            return
        member = answer.member
        log.info("lookup: member found, status=%s", member.status.value)
        self._on_main(
            lambda flow: flow.lookup_succeeded(
                command.journey,
                name=member.name,
                status=member.status.value,
                last_answers=answer.last_answers,
                verification=answer.verification,
            )
        )

    def _checkin(self, command: Checkin) -> None:
        try:
            answer = self.services.client.checkin(command.body)
        except BackendError as exc:
            code = "unreachable" if unreachable(exc) else exc.code
            log.info("check-in failed: %s", code)
            self._on_main(lambda flow: flow.checkin_failed(command.journey, code))
            return
        credential = None
        if answer.credential is not None:
            c = answer.credential
            credential = Credential(c.username, c.password, c.expires_at, c.reused)
        log.info("check-in recorded: credential=%s", "none" if credential is None else "shown")
        self._on_main(lambda flow: flow.checkin_succeeded(command.journey, credential))

    def _guest_visit(self, command: SendGuestVisit) -> None:
        try:
            answer = self.services.client.send_guest_visit(command.body)
        except BackendError as exc:
            code = "unreachable" if unreachable(exc) else exc.code
            log.info("guest visit failed: %s", code)
            self._on_main(lambda flow: flow.guest_failed(command.journey, code))
            return
        c = answer.credential
        voucher = None if c is None else Credential(c.username, c.password, c.expires_at, False)
        log.info("guest visit recorded: voucher=%s", "none" if voucher is None else "shown")
        self._on_main(lambda flow: flow.guest_succeeded(command.journey, voucher))

    def _queue(self, command: QueueVisit) -> None:
        try:
            self.services.outbox.put(command.body)
        except OutboxError as exc:
            log.error("outbox could not keep a visit: %s", exc)
            self._on_main(lambda flow: flow.queue_failed(command.journey))
            return
        log.info("visit kept in the outbox")
        if self.services.sender is not None:
            self.services.sender.wake()


def unreachable(exc: BackendError) -> bool:
    """No answer about the patron: the backend was down, timed out or asked us to wait."""
    return not isinstance(exc, BackendRejected) or isinstance(exc, RateLimited)


def _lookup_failed(journey: int) -> FlowEvent:
    return lambda flow: flow.lookup_failed(journey, "error")


def _checkin_failed(journey: int) -> FlowEvent:
    return lambda flow: flow.checkin_failed(journey, "error")


def _guest_failed(journey: int) -> FlowEvent:
    return lambda flow: flow.guest_failed(journey, "error")


def _queue_failed(journey: int) -> FlowEvent:
    return lambda flow: flow.queue_failed(journey)
