"""What a guest or a group leader types at the kiosk: the name keyboard's keys and the visit body.

Pure Python: the on-screen keyboard sends key names here, and the finished entry becomes a
protocol.GuestVisitRequest body (names 1-80 characters, no control characters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.config import GuestbookField
from kiosk.core.guestbook import is_complete, validate_answers

MAX_NAME = 80
MAX_GROUP = 500
# Letters beyond a-z that Indonesian names carry (loan names, Balinese and Arabic spellings).
EXTRA_LETTERS = "éèëäöüâ"
PUNCTUATION = "'-."
# The keyboard's rows (lower case; "shift" gives upper case for one letter).
KEY_ROWS: tuple[str, ...] = ("qwertyuiop", "asdfghjkl", "zxcvbnm", EXTRA_LETTERS + PUNCTUATION)


@dataclass
class GuestEntry:
    """One guest's or group's entry, edited field by field; dropped whole when they leave."""

    group: bool = False
    name: str = ""
    institution: str = ""
    group_size: int = 1
    answers: dict[str, str] = field(default_factory=dict)
    shift: bool = True  # a name starts with a capital
    editing: str = "name"  # "name" or "institution"


def press(entry: GuestEntry, key: str) -> None:
    """A key of the name keyboard: a letter, "space", "back", "shift", "clear"."""
    text = entry.name if entry.editing == "name" else entry.institution
    if key == "back":
        text = text[:-1]
    elif key == "clear":
        text = ""
    elif key == "shift":
        entry.shift = not entry.shift
        return
    elif key == "space":
        if text and not text.endswith(" ") and len(text) < MAX_NAME:
            text += " "
    elif len(key) == 1 and (key.isalpha() or key in PUNCTUATION or key.isdigit()):
        if len(text) < MAX_NAME:
            text += key.upper() if entry.shift else key.lower()
    else:
        return
    # Upper case after a space or at the start, as names are written; lower case inside.
    entry.shift = text == "" or text.endswith(" ") or text.endswith("-")
    if entry.editing == "name":
        entry.name = text
    else:
        entry.institution = text


def clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME].strip()


def set_group_size(entry: GuestEntry, size: int) -> None:
    entry.group_size = max(2 if entry.group else 1, min(MAX_GROUP, size))


def can_send(entry: GuestEntry, fields: Sequence[GuestbookField]) -> bool:
    if not clean(entry.name):
        return False
    if entry.group and (entry.group_size < 2 or not clean(entry.institution)):
        return False
    return is_complete(fields, entry.answers)


def visit_body(
    entry: GuestEntry,
    fields: Sequence[GuestbookField],
    *,
    client_ref: str,
    kiosk_id: str,
    occurred_at: str,
    want_internet: bool,
    gender_counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The POST /guest-visits body for this entry (a protocol.GuestVisitRequest as JSON)."""
    answers: dict[str, Any] = validate_answers(fields, entry.answers)
    for key, count in (gender_counts or {}).items():
        answers[f"count_{key}"] = int(count)
    return {
        "client_ref": client_ref,
        "name": clean(entry.name),
        "institution": clean(entry.institution),
        "answers": answers,
        "want_internet": want_internet,
        "kiosk_id": kiosk_id,
        "occurred_at": occurred_at,
        "group_size": entry.group_size if entry.group else 1,
    }
