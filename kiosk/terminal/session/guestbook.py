"""Guestbook answers: a returning member's preselection, and validation against the fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from kiosk.config import GuestbookField

# A patron types a number on our keypad; anything beyond this is a slip of the finger.
MAX_NUMBER_DIGITS = 9
_NUMBER = re.compile(rf"[+-]?[0-9]{{1,{MAX_NUMBER_DIGITS}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class GuestbookError(ValueError):
    """An answer the guestbook cannot accept; `field` names the field key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _clean_text(value: str) -> str:
    # NFC so that the length limit counts what the patron sees; control characters
    # (a pasted newline, a NUL from a scanner) never belong in a guestbook line.
    text = unicodedata.normalize("NFC", value)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def initial_answers(
    fields: Sequence[GuestbookField], last_answers: Mapping[str, Any] | None
) -> dict[str, str]:
    """The answers to preselect for a member: their last answers, keeping only keys of the
    current fields and, for choices, only choice keys that still exist."""
    if not last_answers:
        return {}
    answers: dict[str, str] = {}
    for field in fields:
        text = _as_text(last_answers.get(field.key))
        if text is None:
            continue
        if field.kind == "choice":
            if text in {c.key for c in field.choices}:
                answers[field.key] = text
        elif field.kind == "text":
            cleaned = _clean_text(text)[: field.max_length].strip()
            if cleaned:
                answers[field.key] = cleaned
        elif _NUMBER.fullmatch(text.strip()):
            answers[field.key] = str(int(text.strip()))
    return answers


def _validate_one(field: GuestbookField, value: Any) -> str | int | None:
    """The clean value, or None when the field is left empty."""
    if value is None:
        return None
    if field.kind == "number":
        if isinstance(value, bool):
            raise GuestbookError(field.key, "must be a whole number")
        if isinstance(value, int):
            number = value
        else:
            text = _as_text(value)
            text = text.strip() if text is not None else None
            if not text:
                return None
            if isinstance(value, float):
                if not value.is_integer():
                    raise GuestbookError(field.key, "must be a whole number")
                number = int(value)
            elif _NUMBER.fullmatch(text):
                number = int(text)
            else:
                raise GuestbookError(field.key, "must be a whole number")
        if abs(number) >= 10**MAX_NUMBER_DIGITS:
            raise GuestbookError(field.key, "number too large")
        return number
    text = _as_text(value)
    if text is None:
        raise GuestbookError(field.key, "must be text")
    if field.kind == "choice":
        choice = text.strip()
        if not choice:
            return None
        if choice not in {c.key for c in field.choices}:
            raise GuestbookError(field.key, f"unknown choice {choice[:40]!r}")
        return choice
    cleaned = _clean_text(text)
    if not cleaned:
        return None
    if len(cleaned) > field.max_length:
        raise GuestbookError(field.key, f"longer than {field.max_length} characters")
    return cleaned


def validate_answers(
    fields: Sequence[GuestbookField], answers: Mapping[str, Any]
) -> dict[str, str | int]:
    """Clean answers ready for the backend: every required field present, choices among their
    keys, text trimmed and within max_length, numbers parsed. Keys of no field are dropped.
    Raises GuestbookError for the first field in the configured order that is wrong."""
    clean: dict[str, str | int] = {}
    for field in fields:
        value = _validate_one(field, answers.get(field.key))
        if value is None:
            if field.required:
                raise GuestbookError(field.key, "required")
            continue
        clean[field.key] = value
    return clean


def is_complete(fields: Sequence[GuestbookField], answers: Mapping[str, Any]) -> bool:
    """Whether the answers would pass validate_answers (the "Kirim" button's enabled state)."""
    try:
        validate_answers(fields, answers)
    except GuestbookError:
        return False
    return True
