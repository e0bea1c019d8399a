"""The shipped nginx config in front of two backend instances on one PostgreSQL (issue 14):
requests are balanced over both, an instance that dies is passed over without a failed
request, and the kiosk's own address reaches the backend (its per-address limit holds per
kiosk, not for the proxy)."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.backend_server import BackendServer, checkin_body
from support.needs import unavailable
from support.nginx_proxy import NginxProxy, NoNginx
from support.postgres_server import PostgreSQL


@pytest.fixture
def proxied(
    postgresql: PostgreSQL, tmp_path: Path
) -> Iterator[tuple[NginxProxy, BackendServer, BackendServer]]:
    config = {"database_url": postgresql.new_database("proxied"), "auth_failures_per_minute": 5}
    with (
        BackendServer(tmp_path / "a", backend=config) as first,
        BackendServer(tmp_path / "b", members_csv=None, backend=config) as second,
    ):
        try:
            proxy = NginxProxy(tmp_path / "nginx", [first.port, second.port])
        except NoNginx as exc:
            unavailable(str(exc))
        proxy.start()
        try:
            yield proxy, first, second
        finally:
            proxy.stop()


def post(proxy: NginxProxy, path: str, body: object, token: str, source: str = "127.0.0.1") -> int:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection(
        "127.0.0.1", proxy.port, timeout=10, context=context, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST", f"/api/v1/{path}", body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_nginx_balances_and_passes_over_a_dead_instance(
    proxied: tuple[NginxProxy, BackendServer, BackendServer],
) -> None:
    proxy, first, second = proxied
    codes = [post(proxy, "checkins", checkin_body("19000123"), first.token) for _ in range(20)]
    assert codes == [201] * 20
    served = [s.log_tail(400).count("POST /api/v1/checkins 201") for s in (first, second)]
    assert all(n >= 5 for n in served), served  # round robin: both took their share
    first.kill()
    codes = [post(proxy, "visits", checkin_body("19000101"), first.token) for _ in range(10)]
    assert codes == [201] * 10  # the dead one is passed over, no request fails
    health = requests.get(f"{proxy.url}/health", timeout=5, verify=False)
    assert health.status_code == 200


def test_the_kiosks_address_passes_through_the_proxy(
    proxied: tuple[NginxProxy, BackendServer, BackendServer],
) -> None:
    proxy, first, _ = proxied
    wrong = [post(proxy, "members/lookup", {"card": "1"}, "x" * 20, "127.0.0.2") for _ in range(7)]
    assert wrong == [401] * 5 + [429] * 2
    # Another kiosk behind the same proxy is not held by the first one's failures.
    assert post(proxy, "members/lookup", {"card": "19000123"}, first.token, "127.0.0.3") == 200
