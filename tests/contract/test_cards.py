"""Card text -> member id (kiosk/cards.py): properties over generated scans."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.cards import (
    MAX_CARD_TEXT,
    CardReader,
    NotAMemberCard,
    NumberShape,
    normalise_member_id,
    number_shape,
)
from kiosk.config import DEFAULT_CARD_PATTERN

LIBRARY_PATTERN = r"(?P<start>[A-D])?(?P<id>19\d{6})(?(start)[A-D])"
DEFAULT = CardReader(DEFAULT_CARD_PATTERN)
LIBRARY = CardReader(LIBRARY_PATTERN)

digits = st.text(alphabet="0123456789", min_size=4, max_size=20)
codabar_letter = st.sampled_from("ABCDabcd")
whitespace = st.text(alphabet=" \t\r\n", max_size=4)
library_ids = st.integers(min_value=0, max_value=999_999).map(lambda n: f"19{n:06d}")
default_ids = st.from_regex(r"[A-Z0-9][A-Z0-9-]{2,18}[A-Z0-9]", fullmatch=True)


@given(digits, codabar_letter, codabar_letter)
def test_codabar_start_and_stop_letters_are_not_part_of_the_id(
    number: str, start: str, stop: str
) -> None:
    assert DEFAULT.member_id(f"{start}{number}{stop}") == number


def test_the_documented_codabar_example() -> None:
    assert DEFAULT.member_id("A0012345B") == "0012345"


@given(default_ids, whitespace, whitespace)
def test_surrounding_whitespace_is_ignored(member_id: str, before: str, after: str) -> None:
    assert DEFAULT.member_id(f"{before}{member_id}{after}") == DEFAULT.member_id(member_id)


@given(default_ids)
def test_ids_compare_case_insensitively(member_id: str) -> None:
    assert DEFAULT.member_id(member_id.lower()) == DEFAULT.member_id(member_id) == member_id


@given(default_ids)
def test_reading_is_idempotent(member_id: str) -> None:
    once = DEFAULT.member_id(member_id)
    assert DEFAULT.member_id(once) == once == normalise_member_id(once)


@given(library_ids, st.one_of(st.just(("", "")), st.tuples(codabar_letter, codabar_letter)))
def test_library_cards_read_in_every_printed_form(member_id: str, letters: tuple[str, str]) -> None:
    start, stop = letters
    assert LIBRARY.member_id(f"{start}{member_id}{stop}") == member_id


@given(st.text(max_size=300))
def test_any_text_is_a_member_id_or_not_a_member_card_never_a_crash(text: str) -> None:
    for reader in (DEFAULT, LIBRARY):
        try:
            member_id = reader.member_id(text)
        except NotAMemberCard:
            assert not reader.is_member_card(text)
            continue
        assert reader.is_member_card(text)
        assert member_id == member_id.strip().upper()
        assert member_id


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_library_pattern_takes_only_its_own_numbers(number: str) -> None:
    assume(not re.fullmatch(r"19\d{6}", number))
    with pytest.raises(NotAMemberCard):
        LIBRARY.member_id(number)


@pytest.mark.parametrize(
    "text",
    ["9780201379624", "A19000123", "19000123B", "E19000123E", "1900012", "190001234", "", "   "],
)
def test_books_and_other_cards_are_not_member_cards(text: str) -> None:
    with pytest.raises(NotAMemberCard):
        LIBRARY.member_id(text)


def test_enormous_scans_are_refused_without_matching() -> None:
    with pytest.raises(NotAMemberCard, match="too long"):
        DEFAULT.member_id("1" * (MAX_CARD_TEXT + 1))


def test_a_pattern_without_an_id_group_is_refused() -> None:
    with pytest.raises(ValueError, match="named group"):
        CardReader(r"19\d{6}")


# ------------------------------------------------- how a typed number looks


@pytest.mark.parametrize(
    ("pattern", "shape"),
    [
        (r"(?P<start>[A-D])?(?P<id>19\d{6})(?(start)[A-D])", NumberShape(8, 8, "19")),
        (DEFAULT_CARD_PATTERN, NumberShape(4, 20, "")),
        (r"(?P<id>190\d{5}|191\d{5})", NumberShape(8, 8, "19")),
        (r"(?P<id>(19|20)\d{6})", NumberShape(8, 8, "")),
        (r"(?P<id>12\d{2}(?:-\d)?)", NumberShape(4, 4, "12")),  # the dash cannot be typed
        (r"(?P<id>\d{6,9})", NumberShape(6, 9, "")),
    ],
)
def test_number_shape_says_how_many_digits_and_how_they_start(
    pattern: str, shape: NumberShape
) -> None:
    assert number_shape(pattern) == shape


@pytest.mark.parametrize("pattern", [r"(?P<id>\d+)", r"(?P<id>BB\d{4})", r"(?P<id>[^x]{4})"])
def test_number_shape_is_none_when_it_cannot_say_or_no_digits_fit(pattern: str) -> None:
    assert number_shape(pattern) is None
