"""Guestbook answers: preselection for a returning member and validation against the fields."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.config import Choice, GuestbookField, GuestbookSettings, Text
from kiosk.terminal.session.guestbook import (
    GuestbookError,
    initial_answers,
    is_complete,
    validate_answers,
)

FIELDS = GuestbookSettings().fields  # purpose, occupation, education (choices), institution (text)
VISITORS = GuestbookField(
    key="visitors", label=Text(id="Jumlah", en="Visitors"), kind="number", required=False
)
NOTE = GuestbookField(
    key="note", label=Text(id="Catatan", en="Note"), kind="text", required=True, max_length=10
)
COMPLETE = {"purpose": "membaca", "occupation": "mahasiswa", "education": "s1"}


def test_default_fields_are_the_libraries_guestbook() -> None:
    assert [f.key for f in FIELDS] == ["purpose", "occupation", "education", "institution"]
    assert [f.kind for f in FIELDS] == ["choice", "choice", "choice", "text"]


def test_returning_member_gets_last_answers_preselected() -> None:
    last = {**COMPLETE, "institution": "Universitas Bangka Belitung"}
    assert initial_answers(FIELDS, last) == last


def test_new_member_starts_with_nothing_selected() -> None:
    assert initial_answers(FIELDS, None) == {}
    assert initial_answers(FIELDS, {}) == {}


def test_preselection_drops_keys_and_choices_the_guestbook_no_longer_has() -> None:
    last = {
        "purpose": "menonton",  # a choice removed from config since
        "occupation": "pns",
        "hobby": "catur",  # a field removed from config since
        "education": 5,  # not a choice key
        "institution": None,
    }
    assert initial_answers(FIELDS, last) == {"occupation": "pns"}


def test_preselection_trims_old_text_and_keeps_numbers_as_text() -> None:
    last = {"note": "  perpustakaan\nkeliling  ", "visitors": 3}
    assert initial_answers([NOTE, VISITORS], last) == {"note": "perpustaka", "visitors": "3"}


def test_complete_answers_validate_to_keys() -> None:
    answers = {**COMPLETE, "institution": "  SMAN 1   Pangkalpinang "}
    assert validate_answers(FIELDS, answers) == {**COMPLETE, "institution": "SMAN 1 Pangkalpinang"}


def test_optional_field_left_empty_is_left_out() -> None:
    assert validate_answers(FIELDS, {**COMPLETE, "institution": "   "}) == COMPLETE


@pytest.mark.parametrize("missing", ["purpose", "occupation", "education"])
def test_a_missing_required_answer_names_its_field(missing: str) -> None:
    answers = {k: v for k, v in COMPLETE.items() if k != missing}
    with pytest.raises(GuestbookError) as caught:
        validate_answers(FIELDS, answers)
    assert caught.value.field == missing
    assert not is_complete(FIELDS, answers)


def test_a_choice_outside_its_keys_is_refused() -> None:
    with pytest.raises(GuestbookError) as caught:
        validate_answers(FIELDS, {**COMPLETE, "purpose": "Membaca"})  # a label, not the key
    assert caught.value.field == "purpose"


def test_unknown_keys_are_dropped() -> None:
    assert validate_answers(FIELDS, {**COMPLETE, "card": "19000101", "x" * 50: 1}) == COMPLETE


def test_text_longer_than_max_length_is_refused() -> None:
    with pytest.raises(GuestbookError) as caught:
        validate_answers([NOTE], {"note": "x" * 11})
    assert caught.value.field == "note"
    assert validate_answers([NOTE], {"note": "x" * 10}) == {"note": "x" * 10}


def test_control_characters_never_reach_the_guestbook() -> None:
    assert validate_answers([NOTE], {"note": "a\x00b\tc"}) == {"note": "a b c"}


@pytest.mark.parametrize(("given", "expected"), [("12", 12), (" 7 ", 7), (4, 4), (3.0, 3)])
def test_numbers_are_parsed(given: Any, expected: int) -> None:
    assert validate_answers([VISITORS], {"visitors": given}) == {"visitors": expected}


@pytest.mark.parametrize("given", ["dua", "1.5", 2.5, True, "1" * 10, "1e3"])
def test_a_number_field_refuses_what_is_not_a_whole_number(given: Any) -> None:
    with pytest.raises(GuestbookError) as caught:
        validate_answers([VISITORS], {"visitors": given})
    assert caught.value.field == "visitors"


def test_non_text_answer_to_a_choice_is_refused() -> None:
    with pytest.raises(GuestbookError):
        validate_answers(FIELDS, {**COMPLETE, "occupation": ["pns"]})


def test_complete_means_validate_would_pass() -> None:
    assert is_complete(FIELDS, COMPLETE)
    assert not is_complete(FIELDS, {})
    only_optional = GuestbookField(
        key="kelas",
        label=Text(id="Kelas", en="Class"),
        required=False,
        choices=[Choice(key="a", label=Text(id="A", en="A"))],
    )
    assert is_complete([only_optional], {})
