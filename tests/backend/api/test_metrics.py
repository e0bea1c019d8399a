"""GET /metrics on the real backend: counters move with real requests, all workers summed,
heartbeat gauges per kiosk, and only the addresses in [backend] metrics_allow get an answer."""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.backend_server import BackendServer, checkin_body


def scrape(server: BackendServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape (a new connection each time), keyed by name and labels."""
    answer = requests.get(f"{server.base_url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def raw_get(server: BackendServer, source: str, path: str, token: str = "") -> bytes:
    """An HTTP/1.1 GET sent from `source` (another loopback address) to the server."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\n{auth}Connection: close\r\n\r\n"
    with socket.create_connection(
        (server.host, server.port), timeout=10, source_address=(source, 0)
    ) as connection:
        connection.sendall(request.encode("ascii"))
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_counters_follow_real_checkins_lookups_and_heartbeats(tmp_path: Path) -> None:
    with BackendServer(tmp_path) as server:
        before = scrape(server)
        first = checkin_body()
        assert server.post("checkins", first).status_code == 201
        assert server.post("checkins", first).status_code == 200  # the replay
        assert server.post("checkins", checkin_body(card="19000124")).status_code == 403
        assert server.post("members/lookup", {"card": "19000123"}).status_code == 200
        assert server.post("members/lookup", {"card": "19009999"}).status_code == 404
        beat = {"kiosk_id": "kiosk-lantai-2", "outbox_depth": 7, "dead_letters": 2}
        assert server.post("kiosks/heartbeat", {**beat, "camera": "no_camera"}).status_code == 200
        after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("kiosk_checkins_total", result="recorded") == 1
    assert moved("kiosk_checkins_total", result="replay") == 1
    assert moved("kiosk_checkins_total", result="member_expired") == 1
    assert moved("kiosk_lookups_total", result="found") == 1
    assert moved("kiosk_lookups_total", result="member_not_found") == 1
    assert moved("kiosk_credentials_issued_total") == 1
    route = {"method": "POST", "route": "/api/v1/checkins"}
    assert moved("kiosk_request_duration_seconds_count", **route) == 3
    assert value(after, "kiosk_outbox_depth", kiosk="kiosk-lantai-2") == 7
    assert value(after, "kiosk_dead_letters", kiosk="kiosk-lantai-2") == 2
    assert value(after, "kiosk_camera_state", kiosk="kiosk-lantai-2", state="no_camera") == 1
    assert value(after, "kiosk_last_contact_timestamp_seconds", kiosk="kiosk-lantai-2") > 0
    assert ("kiosk_provisioning_errors_total", ()) in after
    assert ("kiosk_database_errors_total", ()) in after


def test_two_workers_report_the_sum_of_both(tmp_path: Path) -> None:
    with BackendServer(tmp_path, workers=2) as server:
        for _ in range(12):  # each on a new connection: the kernel spreads them over both
            answer = requests.post(
                server.url("checkins"), json=checkin_body(), headers=server.headers, timeout=10
            )
            assert answer.status_code == 201, answer.text
        files = list((tmp_path / "metrics").glob("*/*.db"))
        assert files, "no multiprocess files under var/metrics"
        # Every scrape, whichever worker answers it, shows all 12.
        for _ in range(8):
            assert value(scrape(server), "kiosk_checkins_total", result="recorded") == 12
    assert not list((tmp_path / "metrics").iterdir()), "this start's directory outlived it"


def test_metrics_refused_outside_metrics_allow_even_with_a_token(tmp_path: Path) -> None:
    with BackendServer(tmp_path, backend={"metrics_allow": ["127.0.0.1/32"]}) as server:
        assert raw_get(server, "127.0.0.1", "/metrics").startswith(b"HTTP/1.1 200")
        refused = raw_get(server, "127.0.0.2", "/metrics", token=server.token)
        assert refused.startswith(b"HTTP/1.1 403"), refused[:200]
        assert b'"forbidden"' in refused
        assert b"kiosk_checkins_total" not in refused
        # The rest of the API still answers that address.
        health = raw_get(server, "127.0.0.2", "/api/v1/health")
        assert health.startswith(b"HTTP/1.1 200")


def test_a_killed_starts_worker_files_are_removed_at_the_next_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kiosk.backend.metrics import end_multiprocess_dir, start_multiprocess_dir

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    killed = tmp_path / "metrics" / f"20261207T010000-{gone.pid}"
    living = tmp_path / "metrics" / f"20261207T020000-{os.getpid()}"
    for leftover in (killed, living):
        leftover.mkdir(parents=True)
        (leftover / "counter_1.db").write_bytes(b"x")
    started = start_multiprocess_dir(tmp_path)
    try:
        assert not killed.exists() and living.exists()
    finally:
        end_multiprocess_dir(started)


def test_the_workers_flag_reaches_the_rate_limit(tmp_path: Path) -> None:
    """`--workers 2` over a file saying 1: each worker takes half of the limit, so the two
    together pass at most the limit (each took all of it when it read the file)."""
    with BackendServer(
        tmp_path,
        flags=["--workers", "2"],
        backend={"rate_limit_per_minute": 10, "shared_limits": "process"},
    ) as server:
        log = server.dir / "log" / "backend.log"
        shares: list[str] = []
        deadline = time.monotonic() + 30
        while len(shares) < 2 and time.monotonic() < deadline:  # the second worker's start
            shares = re.findall(r"worker \d+: (\d+) requests a minute per token", log.read_text())
            time.sleep(0.05)  # polling a file: there is no event to await
    assert shares == ["5", "5"], shares
