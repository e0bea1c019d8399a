"""The outbox sender: a thread that sends due outbox entries to POST /visits (a guest's or
group's: /guest-visits), with backoff while the backend is down."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable

from kiosk import protocol
from kiosk.terminal.client import BackendClient, BackendRejected, BackendUnreachable, RateLimited
from kiosk.terminal.outbox import Outbox, OutboxEntry, OutboxError

log = logging.getLogger("kiosk.outbox")

# Answers that say "this kiosk is misconfigured" (wrong token, wrong URL, old backend), not
# "this entry is wrong": the entry waits for staff to fix the kiosk instead of dying.
KIOSK_WIDE_CODES = frozenset(
    {
        protocol.ErrorCode.unauthorized,
        protocol.ErrorCode.not_found,
        protocol.ErrorCode.method_not_allowed,
    }
)


def backoff_delay(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**(n-1))."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


class OutboxSender:
    """A background thread that sends due outbox entries to POST /visits.

    While the backend is unreachable the sender pauses with backoff (one probe per pause,
    not one per entry); wake() ends a pause at once ("send queued visits now", or the flow
    just reached the backend). on_change(pending_count) is called from the sender thread.
    """

    def __init__(
        self,
        outbox: Outbox,
        client: BackendClient,
        *,
        interval: float = 10.0,
        on_change: Callable[[int], None] | None = None,
        base_delay: float = 2.0,
        max_delay: float = 60.0,
        batch: int = 20,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.interval = interval
        self.on_change = on_change
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused_until = 0.0
        self._rush = False
        self._failures = 0
        self._last_count: int | None = None
        self.sent = 0
        self.dead = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Send every pending visit now, even those waiting out their own backoff."""
        self._rush = True
        self._paused_until = 0.0
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "outbox sender still busy with a call after %.1f s; left to finish", timeout
                )
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass, so a wake() during the pass triggers another one.
            self._wake.clear()
            try:
                self.send_due()
            except Exception:
                # The outbox file itself failing (disk full, I/O error): keep the thread alive
                # and try again later; the entries are still on disk.
                log.exception("outbox pass failed")
                self._pause(self._backoff())
            self._wake.wait(self._seconds_to_next_pass())

    def _seconds_to_next_pass(self) -> float:
        now = time.time()
        wait = self.interval
        if self._paused_until > now:
            return min(max(self._paused_until - now, 0.0), max(self.max_delay, self.interval))
        try:
            due_at = self.outbox.next_try_at()
        except Exception:
            return wait
        if due_at is not None:
            wait = min(wait, max(due_at - now, 0.0))
        return wait

    def _backoff(self) -> float:
        self._failures += 1
        return backoff_delay(
            self._failures, base=self.base_delay, cap=self.max_delay, rng=self._rng
        )

    def _pause(self, seconds: float) -> None:
        self._paused_until = time.time() + seconds

    def send_due(self) -> int:
        """One pass: send every due entry until none is due, the backend fails, or stop().
        Returns how many were sent. Usable without start() (tests, the soak bench)."""
        before = self.sent
        # After wake() or a first success the backend is known to answer: entries waiting
        # out a backoff from when it did not are sent now too.
        rush, self._rush = self._rush, False
        try:
            while not self._stopping.is_set() and time.time() >= self._paused_until:
                horizon = math.inf if rush or self.sent > before else time.time()
                entries = self.outbox.due(horizon, self.batch)
                if not entries:
                    break
                for entry in entries:
                    if self._stopping.is_set():
                        break
                    if not self._send(entry):
                        return self.sent - before
        finally:
            self._report()
        return self.sent - before

    def _send(self, entry: OutboxEntry) -> bool:
        """Send one entry; False when the pass should stop (backend down or limiting us)."""
        try:
            if isinstance(entry.body, protocol.GuestVisitRequest):
                self.client.send_guest_visit(entry.body)
            elif isinstance(entry.body, protocol.SatisfactionRequest):
                self.client.send_survey(entry.body)
            elif entry.body is not None:  # due() gives only readable entries
                self.client.send_visit(entry.body)
        except RateLimited as exc:
            delay = max(exc.retry_after, 0.5)
            self.outbox.retry_later(entry.client_ref, "rate limited", delay)
            self._pause(delay)
            log.info("outbox: rate limited, waiting %.1f s", delay)
            return False
        except BackendRejected as exc:
            if (
                exc.status is not None
                and 400 <= exc.status < 500
                and exc.code not in KIOSK_WIDE_CODES
            ):
                self.outbox.mark_dead(entry.client_ref, f"{exc.status} {exc.code}: {exc.message}")
                self.dead += 1
                log.warning(
                    "outbox: visit %s refused (%s %s), kept as a dead letter",
                    entry.client_ref,
                    exc.status,
                    exc.code,
                )
                return True
            delay = self._backoff()
            self.outbox.retry_later(
                entry.client_ref, f"{exc.status} {exc.code}: {exc.message}", delay
            )
            self._pause(delay)
            log.warning("outbox: backend refused this kiosk (%s), retry in %.0f s", exc.code, delay)
            return False
        except BackendUnreachable as exc:
            delay = self._backoff()
            self.outbox.retry_later(entry.client_ref, exc.message, delay)
            self._pause(delay)
            log.info("outbox: backend unreachable (%s), retry in %.0f s", exc.code, delay)
            return False
        self.outbox.mark_sent(entry.client_ref)
        self._failures = 0
        self.sent += 1
        log.info("outbox: visit %s sent", entry.client_ref)
        return True

    def _report(self) -> None:
        if self.on_change is None:
            return
        try:
            count = self.outbox.pending_count()
        except OutboxError:
            return
        if count != self._last_count:
            self._last_count = count
            try:
                self.on_change(count)
            except Exception:
                log.exception("outbox on_change callback failed")
