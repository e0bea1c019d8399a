"""The HTTP protocol uvicorn runs, with TCP_NODELAY on every connection (several workers).

With `--workers N` uvicorn binds the listening socket itself as `socket(AF_INET,
SOCK_STREAM)`, protocol 0, and asyncio only turns Nagle off for sockets whose protocol is
IPPROTO_TCP: every keep-alive response then waited ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
