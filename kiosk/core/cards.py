"""Scanned card text -> member id, by the library's configurable pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CARD_TEXT = 256


class NotAMemberCard(ValueError):
    """The scanned text is not a member card of this library (a book's ISBN, another
    library's card, garbage)."""


@dataclass(frozen=True)
class CardReader:
    """Matches scanned text against `[cards] pattern`; the named group `id` is the member id."""

    pattern: str

    def __post_init__(self) -> None:
        compiled = re.compile(self.pattern, re.IGNORECASE)
        if "id" not in compiled.groupindex:
            raise ValueError("the card pattern needs a named group (?P<id>...)")
        object.__setattr__(self, "_compiled", compiled)

    def member_id(self, text: str) -> str:
        """The normalised member id in `text`, or NotAMemberCard."""
        stripped = text.strip()
        if not stripped or len(stripped) > MAX_CARD_TEXT:
            raise NotAMemberCard("empty or too long")
        match = self._compiled.fullmatch(stripped)  # type: ignore[attr-defined]
        if match is None or not match.group("id"):
            raise NotAMemberCard("does not match the card pattern")
        return normalise_member_id(match.group("id"))

    def is_member_card(self, text: str) -> bool:
        try:
            self.member_id(text)
        except NotAMemberCard:
            return False
        return True


def normalise_member_id(member_id: str) -> str:
    """Member ids compare case-insensitively: the canonical form is upper case, trimmed."""
    return member_id.strip().upper()
