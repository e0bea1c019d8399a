"""The HTTP protocol uvicorn runs: TCP_NODELAY, and bounds on connections and header time."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("kiosk.backend.http")
ENVIRONMENT = "KIOSK_HTTP_LIMITS"
HEADER_BYTES = 32 * 1024  # a kiosk's requests carry well under 1 KB of headers


def limits_for_environment(
    connections: int, per_address: int, header_seconds: float, proxies: list[str]
) -> str:
    """What `kiosk backend` puts into KIOSK_HTTP_LIMITS for its workers."""
    return ",".join([str(connections), str(per_address), str(header_seconds), *proxies])


def _limits() -> tuple[int, int, float, frozenset[str]]:
    try:
        connections, per_address, seconds, *proxies = os.environ.get(ENVIRONMENT, "").split(",")
        return int(connections), int(per_address), float(seconds), frozenset(proxies)
    except ValueError:
        return 1000, 64, 10.0, frozenset({"127.0.0.1", "::1"})


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """httptools' protocol with Nagle off and the bounds above."""

    limits: ClassVar[tuple[int, int, float, frozenset[str]] | None] = None
    per_address: ClassVar[Counter[str]] = Counter()  # open connections by address

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        cls = type(self)
        if cls.limits is None:
            cls.limits = _limits()
        most, most_per_address, self._header_seconds, proxies = cls.limits
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if peer else "-"
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._counted = False
        super().connection_made(transport)
        crowded = (
            self._address not in proxies and cls.per_address[self._address] >= most_per_address
        )
        if len(self.connections) > most or crowded:
            log.warning(
                "connection from %s refused: %d open in this process, %d from that address",
                self._address,
                len(self.connections) - 1,
                cls.per_address[self._address],
            )
            transport.abort()
            return
        cls.per_address[self._address] += 1
        self._counted = True
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        if self._counted:
            type(self).per_address[self._address] -= 1
            if type(self).per_address[self._address] <= 0:
                del type(self).per_address[self._address]
            self._counted = False
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        counting = self._header_timer is not None  # inside a request's headers
        super().data_received(data)
        # Judged after parsing: a read that completes the headers may carry body bytes too
        # (a chunked upload arrives in one read), and those are the body's limit's business.
        if counting and self._header_timer is not None:
            self._header_bytes += len(data)
            if self._header_bytes > HEADER_BYTES:
                log.warning("headers over %d bytes from %s: closed", HEADER_BYTES, self._address)
                self._stop_header_timer()
                self.transport.abort()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # a keep-alive connection's next request
            self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._header_bytes = 0

    # ------------------------------------------------------------ timers

    def _start_header_timer(self) -> None:
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self._header_seconds, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: the keep-alive timer takes over after it
        log.info(
            "headers from %s not complete in %.0f s: closed", self._address, self._header_seconds
        )
        self.transport.abort()
