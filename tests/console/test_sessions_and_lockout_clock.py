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


def test_five_wrong_passwords_lock_for_15_minutes_then_the_right_one_works(engine: Engine) -> None:
    for n in range(4):
        with write_session(engine) as session:
            outcome = accounts.authenticate(session, "petugas", f"salah-{n}", T0)
        assert isinstance(outcome, accounts.LoginRefused) and outcome.reason == "wrong"
    with write_session(engine) as session:
        outcome = accounts.authenticate(session, "petugas", "salah-5", T0)
    assert isinstance(outcome, accounts.LoginRefused) and outcome.reason == "locked"
    assert outcome.locked_until == T0 + dt.timedelta(minutes=15)
    with write_session(engine) as session:
        still = accounts.authenticate(session, "petugas", PASSWORD, T0 + dt.timedelta(minutes=14))
    assert isinstance(still, accounts.LoginRefused) and still.reason == "locked"
    with write_session(engine) as session:
        member = accounts.authenticate(session, "petugas", PASSWORD, T0 + dt.timedelta(minutes=16))
    assert isinstance(member, accounts.StaffMember) and member.role == "staff"
