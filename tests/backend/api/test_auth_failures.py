"""Token guessing is limited per client address (issue 11 item 7): 429 after the limit, while
another address with the right token is served."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from support.backend_server import BackendServer


def ask(server: BackendServer, source: str, token: str) -> tuple[int, str, dict[str, str]]:
    connection = http.client.HTTPConnection(
        server.host, server.port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            "/api/v1/members/lookup",
            body=json.dumps({"card": "19000123"}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        code = json.loads(response.read())["error"]["code"] if response.status >= 400 else ""
        return response.status, code, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_wrong_tokens_from_one_address_are_limited(tmp_path: Path) -> None:
    with BackendServer(tmp_path, backend={"auth_failures_per_minute": 5}) as server:
        answers = [ask(server, "127.0.0.2", "wrong-token-0123456789")[:2] for _ in range(8)]
        assert answers[:5] == [(401, "unauthorized")] * 5
        assert answers[5:] == [(429, "rate_limited")] * 3
        # Even the right token waits at that address: a guess that hits gains nothing.
        status, code, headers = ask(server, "127.0.0.2", server.token)
        assert (status, code) == (429, "rate_limited") and int(headers["retry-after"]) >= 1
        # Another address (another kiosk) is untouched.
        assert ask(server, "127.0.0.3", server.token)[0] == 200
        assert ask(server, "127.0.0.3", "wrong-token-0123456789")[0] == 401
        assert "failed authentication limit reached for 127.0.0.2" in server.log_tail(200)
