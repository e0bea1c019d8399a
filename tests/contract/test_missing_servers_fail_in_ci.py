"""A test whose server or tool is missing fails under CI=true and skips on a bare machine
(support.needs), whether it stops itself or carries the mark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest
from support.needs import needs, unavailable


def test_stops_itself():
    unavailable("no MariaDB here")


@needs(True, "no FreeRADIUS here")
def test_marked():
    pass


@needs(False, "present")
def test_has_what_it_needs():
    pass
"""


def run_sample(tmp_path: Path, ci: str | None) -> str:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TESTS)}
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "support.needs",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfs",
            str(tmp_path / "test_sample.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    return result.stdout


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_under_ci_a_missing_server_fails_with_its_reason(tmp_path: Path, ci: str) -> None:
    out = run_sample(tmp_path, ci)
    # A mark acts in setup, so pytest counts that one as an error: both make the run fail.
    assert "1 failed, 1 passed, 1 error" in out, out
    assert "no MariaDB here" in out and "no FreeRADIUS here" in out


def test_on_a_bare_machine_a_missing_server_skips_with_its_reason(tmp_path: Path) -> None:
    out = run_sample(tmp_path, None)
    assert "1 passed, 2 skipped" in out, out
    assert "no MariaDB here" in out and "no FreeRADIUS here" in out
