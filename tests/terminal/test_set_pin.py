"""`kiosk set-pin` as staff run it: a subprocess, the PIN twice on standard input."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kiosk.terminal.pin import verify_pin

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
# Kiosk configuration for the east entrance.
[kiosk]
backend_url = "http://127.0.0.1:8080"   # the library server
kiosk_id = "kiosk-timur"

[maintenance]
# Set with `kiosk set-pin`; only a salted hash is stored here.
pin_hash = ""        # keep this comment
max_attempts = 5
lockout_minutes = 5.0

[library]
name = "Perpustakaan Daerah"  # shown on the welcome screen
"""


def set_pin(
    config: Path, stdin: str, *, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-m", "kiosk", "set-pin"]
    if cwd is None:
        args += ["--config", str(config)]
    return subprocess.run(
        args,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd or config.parent,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_set_pin_stores_only_a_hash_and_keeps_every_other_line(config: Path) -> None:
    done = set_pin(config, "482916\n482916\n")
    assert done.returncode == 0, done.stderr
    text = config.read_text(encoding="utf-8")
    pin_hash = tomllib.loads(text)["maintenance"]["pin_hash"]
    assert verify_pin("482916", pin_hash)
    assert "482916" not in text
    assert "482916" not in done.stdout + done.stderr
    before = CONFIG.splitlines()
    after = text.splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [('pin_hash = ""        # keep this comment', after[7])]
    assert after[7].startswith('pin_hash = "scrypt$n=16384,r=8,p=1$')
    assert after[7].endswith('"        # keep this comment')


def test_two_different_pins_change_nothing_and_exit_non_zero(config: Path) -> None:
    done = set_pin(config, "482916\n482917\n")
    assert done.returncode != 0
    assert "differ" in done.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


@pytest.mark.parametrize("pin", ["123", "123456789", "12ab", ""])
def test_a_pin_that_is_not_4_to_8_digits_is_refused(config: Path, pin: str) -> None:
    done = set_pin(config, f"{pin}\n{pin}\n")
    assert done.returncode != 0
    assert "4 to 8 digits" in done.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


def test_standard_input_ending_early_changes_nothing(config: Path) -> None:
    done = set_pin(config, "482916\n")
    assert done.returncode != 0
    assert config.read_text(encoding="utf-8") == CONFIG


def test_a_config_without_maintenance_gets_the_section(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    original = '# only the kiosk\n[kiosk]\nkiosk_id = "kiosk-2"  # upstairs\n'
    config.write_text(original, encoding="utf-8")
    done = set_pin(config, "2468\n2468\n")
    assert done.returncode == 0, done.stderr
    text = config.read_text(encoding="utf-8")
    assert text.startswith(original)
    data = tomllib.loads(text)
    assert data["kiosk"]["kiosk_id"] == "kiosk-2"
    assert verify_pin("2468", data["maintenance"]["pin_hash"])


def test_setting_it_again_replaces_the_old_hash(config: Path) -> None:
    assert set_pin(config, "1111\n1111\n").returncode == 0
    assert set_pin(config, "2222\n2222\n").returncode == 0
    pin_hash = tomllib.loads(config.read_text(encoding="utf-8"))["maintenance"]["pin_hash"]
    assert verify_pin("2222", pin_hash) and not verify_pin("1111", pin_hash)


def test_without_config_option_it_writes_config_toml_in_the_working_directory(
    tmp_path: Path,
) -> None:
    done = set_pin(tmp_path / "config.toml", "13579\n13579\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "config.toml"
    assert verify_pin("13579", tomllib.loads(path.read_text())["maintenance"]["pin_hash"])
    assert path.stat().st_mode & 0o077 == 0, "a new config file is owner-only"


def test_the_files_mode_is_kept(config: Path) -> None:
    config.chmod(0o640)
    assert set_pin(config, "4321\n4321\n").returncode == 0
    assert config.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in config.parent.iterdir()] == ["config.toml"], "no temp file left"
