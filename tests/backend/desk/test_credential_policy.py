"""Credential policy: validity, member status by date, usernames and passwords, tokens."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.backend.api.auth import TokenCheck, Unauthorized
from kiosk.backend.desk.credentials import (
    PASSWORD_ALPHABET,
    USERNAME_ALPHABET,
    UsernameExhausted,
    choose_username,
    credential_expiry,
    end_of_membership,
    generate_password,
    password_bits,
)
from kiosk.backend.library.members import effective_status
from kiosk.config import CredentialSettings
from kiosk.protocol import MemberStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
# Characters patrons confuse: by case, or with a digit or letter that looks alike
# (0/o, 1/l/i, 2/z, 5/s, 9/q, u/v: the digit stays, the letter goes).
LOOKALIKES = set("0Oo1lIizZsSqQuvUV")


# ---------------------------------------------------------------- member status


def test_member_is_active_through_the_whole_expiry_day() -> None:
    last_day = dt.date(2026, 11, 28)
    assert effective_status("active", last_day, last_day) is MemberStatus.active
    assert effective_status("active", last_day, dt.date(2026, 11, 29)) is MemberStatus.expired


def test_blocked_wins_over_expired() -> None:
    past = dt.date(2020, 1, 1)
    assert effective_status("blocked", past, dt.date(2026, 1, 1)) is MemberStatus.blocked


def test_member_without_expiry_stays_active_and_file_status_expired_counts() -> None:
    assert effective_status("active", None, dt.date(2099, 1, 1)) is MemberStatus.active
    future = dt.date(2099, 1, 1)
    assert effective_status("expired", future, dt.date(2026, 1, 1)) is MemberStatus.expired


# ---------------------------------------------------------------- validity


def test_credential_is_valid_for_valid_days_of_24_hours() -> None:
    issued = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    assert credential_expiry(issued, 2, None, JAKARTA) == issued + dt.timedelta(hours=48)


def test_credential_never_outlives_the_membership_day_in_library_time() -> None:
    # Issued 20:00 Jakarta on the last day of membership: valid until midnight Jakarta.
    issued = dt.datetime(2026, 11, 28, 20, 0, tzinfo=JAKARTA)
    expiry = credential_expiry(issued, 1, dt.date(2026, 11, 28), JAKARTA)
    assert expiry == dt.datetime(2026, 11, 29, 0, 0, tzinfo=JAKARTA)
    assert expiry.tzinfo is dt.UTC
    assert expiry == dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_membership_ending_later_does_not_shorten_the_credential() -> None:
    issued = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    expiry = credential_expiry(issued, 1, dt.date(2026, 12, 31), JAKARTA)
    assert expiry == issued + dt.timedelta(days=1)


def test_end_of_membership_is_midnight_after_the_last_day() -> None:
    end = end_of_membership(dt.date(2026, 12, 31), JAKARTA)
    assert end.astimezone(JAKARTA) == dt.datetime(2027, 1, 1, tzinfo=JAKARTA)


# ---------------------------------------------------------------- passwords


def test_password_alphabet_has_no_lookalikes() -> None:
    assert not set(PASSWORD_ALPHABET) & LOOKALIKES
    assert not set(USERNAME_ALPHABET) & LOOKALIKES
    assert len(set(PASSWORD_ALPHABET)) == len(PASSWORD_ALPHABET) == 26
    assert PASSWORD_ALPHABET == PASSWORD_ALPHABET.lower()  # no letter differs only by case


def test_every_allowed_password_length_keeps_40_bits() -> None:
    shortest = CredentialSettings.model_fields["password_length"].metadata[0].ge
    assert password_bits(shortest) >= 40
    assert password_bits(CredentialSettings().password_length) == pytest.approx(47.0, abs=0.05)
    with pytest.raises(ValueError, match="password_length"):
        CredentialSettings(password_length=8)


@given(st.integers(min_value=9, max_value=64))
def test_password_has_the_configured_length_and_alphabet(length: int) -> None:
    password = generate_password(length)
    assert len(password) == length
    assert set(password) <= set(PASSWORD_ALPHABET)


def test_passwords_use_the_whole_alphabet_and_do_not_repeat() -> None:
    passwords = [generate_password(10) for _ in range(2000)]
    assert len(set(passwords)) == len(passwords)
    assert set("".join(passwords)) == set(PASSWORD_ALPHABET)


# ---------------------------------------------------------------- usernames


def test_random_username_is_not_derived_from_the_member_id() -> None:
    settings = CredentialSettings()
    names = [choose_username(settings, "19000123", lambda _: False) for _ in range(200)]
    assert len(set(names)) == 200
    for name in names:
        assert name.startswith("p")
        assert len(name) == 1 + settings.username_length
        assert "19000123" not in name and "000123" not in name
        assert set(name[1:]) <= set(USERNAME_ALPHABET)


def test_username_collision_draws_again() -> None:
    settings = CredentialSettings()
    taken: set[str] = set()
    calls = itertools.count()

    def is_taken(name: str) -> bool:
        # The first three draws collide with names already issued.
        if next(calls) < 3:
            taken.add(name)
            return True
        return name in taken

    name = choose_username(settings, "19000123", is_taken)
    assert name not in taken
    assert next(calls) == 4


def test_username_space_exhausted_is_a_clear_error() -> None:
    with pytest.raises(UsernameExhausted, match="username_length"):
        choose_username(CredentialSettings(), "19000123", lambda _: True)


def test_member_id_style_is_the_member_id_when_the_library_wants_it() -> None:
    settings = CredentialSettings(username_style="member-id", username_prefix="")
    assert choose_username(settings, "19000123", lambda _: True) == "19000123"


# ---------------------------------------------------------------- tokens and rate


def test_token_check_accepts_only_configured_bearer_tokens() -> None:
    check = TokenCheck(["kiosk-one-token-0001", "kiosk-two-token-0002"])
    assert check.verify("Bearer kiosk-two-token-0002") == "kiosk-two-token-0002"
    assert check.verify("bearer  kiosk-one-token-0001 ") == "kiosk-one-token-0001"
    for header in (None, "", "Bearer", "Basic a2lvc2s=", "Bearer kiosk-one-token-000"):
        with pytest.raises(Unauthorized):
            check.verify(header)
