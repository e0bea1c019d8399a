"""Staff PIN: scrypt hashes, format rules, and a lockout that survives a restart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kiosk.config import MaintenanceSettings
from kiosk.terminal.pin import (
    PinFormatError,
    PinHashError,
    PinLock,
    check_pin_format,
    hash_pin,
    is_pin_hash,
    verify_pin,
)

# A cheap cost keeps the lockout tests fast; the default cost is tested once on its own.
FAST = {"n": 1024, "r": 8, "p": 1}


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return hash_pin("2468", **FAST)


def test_hash_round_trip_accepts_the_pin_and_refuses_others() -> None:
    pin_hash = hash_pin("482916")
    assert verify_pin("482916", pin_hash)
    assert not verify_pin("482917", pin_hash)
    assert not verify_pin("48291", pin_hash)


def test_hash_is_encoded_with_its_parameters_and_a_salt() -> None:
    pin_hash = hash_pin("1234")
    assert re.fullmatch(r"scrypt\$n=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+", pin_hash)
    assert "1234" not in pin_hash.split("$", 2)[2]
    assert hash_pin("1234") != pin_hash, "a fresh salt every time"


@pytest.mark.parametrize("pin", ["1234", "00000000", "90210"])
def test_four_to_eight_digits_are_a_valid_pin(pin: str) -> None:
    assert check_pin_format(pin) == pin


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", " 1234", "1234\n", "١٢٣٤"])
def test_anything_but_four_to_eight_ascii_digits_is_refused(pin: str) -> None:
    with pytest.raises(PinFormatError):
        check_pin_format(pin)
    with pytest.raises(PinFormatError):
        hash_pin(pin)


@pytest.mark.parametrize(
    "bad",
    ["", "1234", "scrypt$n=16384,r=8,p=1$abc", "bcrypt$x$y$z", "scrypt$n=1000,r=8,p=1$YWJj$YWJj"],
)
def test_a_malformed_stored_hash_is_a_configuration_error_not_a_wrong_pin(bad: str) -> None:
    assert not is_pin_hash(bad)
    with pytest.raises(PinHashError):
        verify_pin("1234", bad)


def test_a_tampered_hash_does_not_verify(stored_hash: str) -> None:
    head, salt, digest = stored_hash.rsplit("$", 2)
    flipped = ("B" if digest[0] == "A" else "A") + digest[1:]
    assert not verify_pin("2468", f"{head}${salt}${flipped}")


def test_right_pin_opens_and_reports_full_attempts(tmp_path: Path, stored_hash: str) -> None:
    lock = PinLock(tmp_path / "pin.json")
    result = lock.attempt("2468", stored_hash, now=1000.0)
    assert result.ok and result.locked_until is None and result.attempts_left == 5


def test_each_wrong_pin_counts_down_the_attempts_left(tmp_path: Path, stored_hash: str) -> None:
    lock = PinLock(tmp_path / "pin.json")
    left = [lock.attempt("0000", stored_hash, now=1000.0 + i).attempts_left for i in range(4)]
    assert left == [4, 3, 2, 1]


def test_five_wrong_pins_lock_the_pad_for_the_lockout_time(
    tmp_path: Path, stored_hash: str
) -> None:
    lock = PinLock(tmp_path / "pin.json", max_attempts=5, lockout_seconds=300)
    for i in range(4):
        assert lock.locked_until(1000.0 + i) is None
        assert not lock.attempt("1111", stored_hash, now=1000.0 + i).ok
    fifth = lock.attempt("1111", stored_hash, now=1004.0)
    assert not fifth.ok and fifth.attempts_left == 0 and fifth.locked_until == 1304.0
    # While locked even the right PIN is refused.
    during = lock.attempt("2468", stored_hash, now=1303.9)
    assert not during.ok and during.locked_until == 1304.0
    assert lock.locked_until(1303.9) == 1304.0


def test_after_the_lockout_the_right_pin_opens_and_the_count_starts_afresh(
    tmp_path: Path, stored_hash: str
) -> None:
    lock = PinLock(tmp_path / "pin.json", max_attempts=5, lockout_seconds=300)
    for i in range(5):
        lock.attempt("1111", stored_hash, now=1000.0 + i)
    assert lock.locked_until(1304.0) is None
    assert lock.attempt("1111", stored_hash, now=1305.0).attempts_left == 4
    assert lock.attempt("2468", stored_hash, now=1306.0).ok
    assert lock.attempt("1111", stored_hash, now=1307.0).attempts_left == 4


def test_a_right_pin_resets_the_wrong_count(tmp_path: Path, stored_hash: str) -> None:
    lock = PinLock(tmp_path / "pin.json")
    for i in range(4):
        lock.attempt("1111", stored_hash, now=1000.0 + i)
    assert lock.attempt("2468", stored_hash, now=1010.0).ok
    assert lock.attempt("1111", stored_hash, now=1011.0).attempts_left == 4


def test_lockout_survives_a_restart(tmp_path: Path, stored_hash: str) -> None:
    state = tmp_path / "state" / "pin.json"
    first = PinLock(state, max_attempts=5, lockout_seconds=300)
    for i in range(5):
        first.attempt("1111", stored_hash, now=1000.0 + i)
    del first
    restarted = PinLock(state, max_attempts=5, lockout_seconds=300)
    assert restarted.locked_until(1100.0) == 1304.0
    assert not restarted.attempt("2468", stored_hash, now=1100.0).ok


def test_wrong_count_survives_a_restart(tmp_path: Path, stored_hash: str) -> None:
    state = tmp_path / "pin.json"
    for i in range(3):
        PinLock(state).attempt("1111", stored_hash, now=1000.0 + i)
    assert PinLock(state).attempt("1111", stored_hash, now=1010.0).attempts_left == 1


def test_a_damaged_state_file_locks_rather_than_opens(tmp_path: Path, stored_hash: str) -> None:
    state = tmp_path / "pin.json"
    state.write_text("{not json", encoding="utf-8")
    lock = PinLock(state, lockout_seconds=300)
    result = lock.attempt("2468", stored_hash, now=5000.0)
    assert not result.ok and result.locked_until == 5300.0
    assert lock.attempt("2468", stored_hash, now=5301.0).ok


def test_state_file_holds_no_pin(tmp_path: Path, stored_hash: str) -> None:
    state = tmp_path / "pin.json"
    lock = PinLock(state)
    lock.attempt("13579", stored_hash, now=1.0)
    data = json.loads(state.read_text(encoding="utf-8"))
    assert set(data) == {"failures", "locked_until"}
    assert "13579" not in state.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["pin.json"], "no temp file left behind"


def test_lock_takes_its_limits_from_maintenance_settings(tmp_path: Path, stored_hash: str) -> None:
    lock = PinLock.from_settings(
        tmp_path / "pin.json", MaintenanceSettings(max_attempts=2, lockout_minutes=1.5)
    )
    lock.attempt("1111", stored_hash, now=0.0)
    assert lock.attempt("1111", stored_hash, now=1.0).locked_until == 91.0
