"""With several workers a keep-alive request is not held by Nagle and delayed ACK (issue 11
item 5): before TCP_NODELAY each answer waited ~40 ms for the client's ACK."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import requests
from support.backend_server import BackendServer


def test_two_workers_answer_keep_alive_requests_without_the_ack_delay(tmp_path: Path) -> None:
    with BackendServer(tmp_path, workers=2) as server, requests.Session() as session:
        for _ in range(10):
            session.get(server.url("stats/today"), headers=server.headers, timeout=5)
        took = []
        for _ in range(40):
            started = time.perf_counter()
            answer = session.get(server.url("stats/today"), headers=server.headers, timeout=5)
            took.append(time.perf_counter() - started)
            assert answer.status_code == 200
        # The delayed ACK alone is 40 ms; an answer without it takes a few ms here.
        assert statistics.median(took) < 0.025, f"median {statistics.median(took) * 1000:.1f} ms"
