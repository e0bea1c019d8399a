"""Schemathesis (its current release, its default checks) against the live /openapi.json:
no 500s, every answer documented, everything the schema allows accepted and everything it
forbids refused (the schema states every constraint the API enforces)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from support.backend_server import BackendServer

EXAMPLES_PER_OPERATION = int(__import__("os").environ.get("KIOSK_SCHEMA_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def schema_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    # Its own server: generated bodies would otherwise add visits to the shared one.
    # Its ignored-auth check probes with no token and a wrong one on every operation: more
    # than a minute's failed-authentication limit (whose 429 it would count as a failure).
    with BackendServer(
        Path(tmp_path_factory.mktemp("schemathesis")),
        backend={"auth_failures_per_minute": 100_000},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(schema_server: BackendServer) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{schema_server.base_url}/openapi.json")
    token = schema_server.token

    # The token as schemathesis's own auth: its ignored-auth check then knows the request's
    # credentials are real and probes the API without them and with a wrong one.
    @schema.auth()
    class KioskToken:
        def get(self, case: schemathesis.Case, context: object) -> str:
            return token

        def set(self, case: schemathesis.Case, data: str, context: object) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


OPERATIONS = [
    "GET /api/v1/health",
    "POST /api/v1/members/lookup",
    "POST /api/v1/checkins",
    "POST /api/v1/visits",
    "POST /api/v1/guest-visits",
    "POST /api/v1/satisfaction",
    "GET /api/v1/stats/today",
    "POST /api/v1/kiosks/heartbeat",
    "GET /api/v1/kiosks/{kiosk_id}/settings",
    "POST /api/v1/kiosks/enroll",
]


def test_the_schema_lists_exactly_the_contract(api_schema: schemathesis.BaseSchema) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


# Random card text almost never names a member: swap in real cards (active, expired,
# blocked, Codabar) for some cases so the 201/200/403/409 paths are generated too.
CARDS = st.sampled_from([None, None, "19000123", "19000124", "19000125", "A19000101B"])


# Negative cases need an input to break: the GET operations take none but the token.
RUNS = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if label.startswith("POST")
]


@pytest.mark.parametrize(("label", "mode"), RUNS, ids=[f"{lab}-{m.value}" for lab, m in RUNS])
def test_api_answers_conform_to_its_openapi(
    label: str,
    mode: GenerationMode,
    api_schema: schemathesis.BaseSchema,
    schema_server: BackendServer,
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy(generation_mode=mode), card=CARDS)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def answers_conform(case: schemathesis.Case, card: str | None) -> None:
        # Only a valid body's card is swapped: a negative case may be negative by its card.
        positive = mode is GenerationMode.POSITIVE
        if positive and card is not None and isinstance(case.body, dict) and "card" in case.body:
            case.body["card"] = card
        # occurred_at's window is relative to the server's clock (the schema says so in
        # words; JSON Schema has no "within a year of now"): a valid body's is now.
        if positive and isinstance(case.body, dict) and "occurred_at" in case.body:
            case.body["occurred_at"] = dt.datetime.now(dt.UTC).isoformat()
        # A survey's client_ref reused with other answers is a 422 (the SKM API's rule, which
        # JSON Schema cannot say): a valid survey is a new one.
        if positive and label.endswith("/satisfaction") and isinstance(case.body, dict):
            case.body["client_ref"] = str(uuid.uuid4())
        case.call_and_validate(base_url=schema_server.base_url)

    answers_conform()
