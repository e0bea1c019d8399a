"""What a guest or a group leader types at the kiosk: the name keyboard's keys, the visit body."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.config import GuestbookField
from kiosk.terminal.session.guestbook import is_complete, validate_answers

MAX_NAME = 80
MAX_GROUP = 500
# Letters beyond a-z that Indonesian names carry (loan names, Balinese and Arabic spellings).
EXTRA_LETTERS = "éèëäöüâ"
PUNCTUATION = "'-."
# The keyboard's rows (lower case; "shift" gives upper case for one letter). Digits are for
# an institution's name ("SMA Negeri 1").
KEY_ROWS: tuple[str, ...] = ("qwertyuiop", "asdfghjkl", "zxcvbnm", EXTRA_LETTERS + PUNCTUATION)
DIGITS = "1234567890"
# What a group (rombongan) answers of the guest fields: its purpose; not one person's
# occupation, education or gender (the first field when no field is called so).
GROUP_FIELDS = ("purpose",)


@dataclass
class GuestEntry:
    """One guest's or group's entry, edited field by field; dropped whole when they leave."""

    group: bool = False
    name: str = ""
    institution: str = ""
    group_size: int = 1
    answers: dict[str, str] = field(default_factory=dict)
    # A group's people per gender choice ({} when not asked); group_size is then their sum.
    gender_counts: dict[str, int] = field(default_factory=dict)
    shift: bool = True  # a name starts with a capital
    caps: bool = False  # capitals until "caps" is pressed again (SMAN, SMPN, PNS)
    editing: str = "name"  # "name", "institution" or "group_size" (typed on the digit row)


def press(entry: GuestEntry, key: str) -> None:
    """A key of the name keyboard: a letter, "space", "back", "shift" (one capital), "caps"
    (capitals until pressed again: SMAN, PNS), "clear"."""
    if entry.editing == "group_size":
        press_count(entry, key)
        return
    text = entry.name if entry.editing == "name" else entry.institution
    if key == "back":
        text = text[:-1]
    elif key == "clear":
        text = ""
    elif key == "shift":
        entry.shift = not entry.shift
        return
    elif key == "caps":
        entry.caps = not entry.caps
        return
    elif key == "space":
        if text and not text.endswith(" ") and len(text) < MAX_NAME:
            text += " "
    elif len(key) == 1 and (key.isalpha() or key in PUNCTUATION or key.isdigit()):
        if len(text) < MAX_NAME:
            text += key.upper() if entry.shift or entry.caps else key.lower()
    else:
        return
    # Upper case after a space or at the start, as names are written; lower case inside.
    entry.shift = text == "" or text.endswith(" ") or text.endswith("-")
    if entry.editing == "name":
        entry.name = text
    else:
        entry.institution = text


def press_count(entry: GuestEntry, key: str) -> None:
    """The digit row typing a group's size: "2", "5" is 25 (two taps, not five steps)."""
    if entry.gender_counts:
        return  # counted per gender: the size is their sum
    if key == "back":
        entry.group_size //= 10
    elif key == "clear":
        entry.group_size = 0
    elif key.isdigit() and len(key) == 1:
        entry.group_size = min(MAX_GROUP, entry.group_size * 10 + int(key))


def short_name(name: str) -> str:
    """A visitor's name as the thank-you shows it: "Rina Wulandari" -> "Rina W."."""
    words = clean(name).split()
    if len(words) < 2:
        return words[0] if words else ""
    return f"{words[0]} {words[1][0]}."


def clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME].strip()


def set_group_size(entry: GuestEntry, size: int) -> None:
    if entry.gender_counts:
        return  # counted per gender: the size is their sum
    entry.group_size = max(2 if entry.group else 1, min(MAX_GROUP, size))


def set_gender_count(entry: GuestEntry, key: str, count: int) -> None:
    """How many of a group are of one gender choice; the group's size follows the sum."""
    if not entry.group or key not in entry.gender_counts:
        return
    others = sum(n for k, n in entry.gender_counts.items() if k != key)
    entry.gender_counts[key] = max(0, min(MAX_GROUP - others, count))
    entry.group_size = sum(entry.gender_counts.values())


def fields_for(fields: Sequence[GuestbookField], group: bool) -> list[GuestbookField]:
    """The guest fields a guest answers, or the ones a group does (GROUP_FIELDS)."""
    if not group:
        return list(fields)
    chosen = [f for f in fields if f.key in GROUP_FIELDS]
    return chosen or list(fields[:1])


def missing(entry: GuestEntry, fields: Sequence[GuestbookField]) -> list[str]:
    """What "Kirim" still waits for: "name", "institution", "group_size", or field keys."""
    gaps = []
    if not clean(entry.name):
        gaps.append("name")
    if entry.group and not clean(entry.institution):
        gaps.append("institution")
    if entry.group and entry.group_size < 2:
        gaps.append("group_size")
    answered = {k for k, v in entry.answers.items() if v}
    gaps += [f.key for f in fields_for(fields, entry.group) if f.required and f.key not in answered]
    return gaps


def can_send(entry: GuestEntry, fields: Sequence[GuestbookField]) -> bool:
    if not clean(entry.name):
        return False
    if entry.group and (entry.group_size < 2 or not clean(entry.institution)):
        return False
    return is_complete(fields_for(fields, entry.group), entry.answers)


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
    answers: dict[str, Any] = validate_answers(fields_for(fields, entry.group), entry.answers)
    counts = entry.gender_counts if gender_counts is None else gender_counts
    for key, count in counts.items():
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
