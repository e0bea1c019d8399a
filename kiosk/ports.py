"""A free loopback TCP port, for the servers the demo, the tests and the benches start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
