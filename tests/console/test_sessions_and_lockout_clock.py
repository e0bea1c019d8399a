"""Idle timeout and lockout expiry on the real schema (a migrated SQLite file), with the
clock passed in instead of waiting 30 minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kiosk.backend.console import accounts
from kiosk.backend.console.sessions import load_session, open_session
from kiosk.backend.db import create_db_engine, migrate, write_session

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
PASSWORD = "kata-sandi-staf-12"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    migrate(engine)
    with write_session(engine) as session:
        accounts.add_account(session, "petugas", PASSWORD, "staff", T0)
    yield engine
    engine.dispose()


def test_a_session_lives_while_used_and_ends_after_30_idle_minutes(engine: Engine) -> None:
    with write_session(engine) as session:
        account = accounts.find_account(session, "petugas")
        assert account is not None
        secret = open_session(session, account.id, "127.0.0.1", T0)
    moments = [T0 + dt.timedelta(minutes=m) for m in (20, 45)]  # each within 30 min of the last
    for moment in moments:
        with write_session(engine) as session:
            assert load_session(session, secret, moment) is not None
    with write_session(engine) as session:
        assert load_session(session, secret, moments[-1] + dt.timedelta(minutes=31)) is None
    with write_session(engine) as session:  # and it is gone, not just refused once
        assert load_session(session, secret, moments[-1] + dt.timedelta(minutes=1)) is None
    with write_session(engine) as session:
        assert load_session(session, "a-made-up-cookie", T0) is None


def sign_in(engine: Engine, name: str, password: str, address: str, at: dt.datetime) -> str:
    with write_session(engine) as session:
        outcome = accounts.authenticate(session, name, password, address, at)
    return outcome.reason if isinstance(outcome, accounts.LoginRefused) else "in"


def test_five_wrong_passwords_hold_back_that_name_from_that_address_only(engine: Engine) -> None:
    for n in range(5):
        assert sign_in(engine, "petugas", f"salah-{n}", "10.0.0.66", T0) == "wrong"
    later = T0 + dt.timedelta(minutes=14)
    assert sign_in(engine, "petugas", PASSWORD, "10.0.0.66", later) == "held_back"
    # The librarian at the desk is not locked out by someone else's guessing.
    assert sign_in(engine, "petugas", PASSWORD, "10.0.0.5", later) == "in"
    assert sign_in(engine, "petugas", PASSWORD, "10.0.0.66", T0 + dt.timedelta(minutes=16)) == "in"


def test_twenty_wrong_tries_from_one_address_hold_that_address_back(engine: Engine) -> None:
    for n in range(20):
        assert sign_in(engine, f"tebakan-{n}", "apa-saja-123", "10.0.0.66", T0) == "unknown"
    assert sign_in(engine, "petugas", PASSWORD, "10.0.0.66", T0) == "held_back"
    assert sign_in(engine, "petugas", PASSWORD, "10.0.0.5", T0) == "in"


def test_every_attempt_verifies_one_password_hash_whatever_its_outcome(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real = accounts._verify

    def counting(digest: str, password: str) -> bool:
        verified.append(password)
        return real(digest, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    tries = [("petugas", "salah")] * 6 + [("petugas", PASSWORD), ("tidak-ada", "salah")]
    reasons = [sign_in(engine, name, password, "10.0.0.66", T0) for name, password in tries]
    assert reasons == ["wrong"] * 5 + ["held_back", "held_back", "unknown"]
    assert len(verified) == len(tries)


def test_failed_sign_ins_keep_no_typed_name(engine: Engine) -> None:
    sign_in(engine, "nama-salah-ketik", "salah", "10.0.0.66", T0)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT * FROM staff_login_failures").fetchall()
    assert stored and "nama-salah-ketik" not in repr(stored)


def signed_in(engine: Engine, at: dt.datetime) -> str:
    with write_session(engine) as session:
        account = accounts.find_account(session, "petugas")
        assert account is not None
        return open_session(session, account.id, "127.0.0.1", at)


def test_a_session_ends_12_hours_after_sign_in_however_busy(engine: Engine) -> None:
    secret = signed_in(engine, T0)
    for minutes in range(20, 12 * 60, 20):  # never idle for more than 20 minutes
        with write_session(engine) as session:
            assert load_session(session, secret, T0 + dt.timedelta(minutes=minutes)) is not None
    with write_session(engine) as session:
        assert load_session(session, secret, T0 + dt.timedelta(hours=12, minutes=1)) is None


def test_a_new_password_ends_every_session_of_the_account(engine: Engine) -> None:
    desk, office = signed_in(engine, T0), signed_in(engine, T0)
    with write_session(engine) as session:
        accounts.set_password(session, "petugas", "sandi-baru-yang-panjang")
    for secret in (desk, office):
        with write_session(engine) as session:
            assert load_session(session, secret, T0 + dt.timedelta(minutes=1)) is None
