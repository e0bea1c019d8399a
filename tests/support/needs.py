"""What a test needs from the machine (a server, a tool): under CI=true a missing one fails the
test with the reason; on a developer's bare machine it skips with the same reason."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

CI_FAILS = "CI=true: a test whose server or tool cannot start fails, never skips"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Stop this test: fail under CI=true, skip elsewhere, naming what is missing."""
    if in_ci():
        pytest.fail(f"{reason} ({CI_FAILS})", pytrace=False)
    pytest.skip(reason)


def needs(missing: bool, reason: str) -> pytest.MarkDecorator:
    """A mark for tests that need something that may be missing, acted on before each test
    (a skipif mark would skip in CI too)."""
    return pytest.mark.unavailable(reason) if missing else pytest.mark.unavailable()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unavailable(reason): what the test needs is missing (fails under CI=true)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("unavailable"):
        if mark.args:
            unavailable(mark.args[0])
