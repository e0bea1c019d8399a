"""Scanned card text -> member id, by the library's configurable pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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


# ------------------------------------------------- how a typed number looks


@dataclass(frozen=True)
class NumberShape:
    """What a member number typed on the digit keypad must look like, read from the card
    pattern: so many digits (a range when `shortest` < `longest`), starting with `prefix`."""

    shortest: int
    longest: int
    prefix: str = ""


_DIGITS = frozenset("0123456789")
_Span = tuple[int, int, str, bool]  # shortest, longest, literal prefix, prefix ends here


def number_shape(pattern: str) -> NumberShape | None:
    """The shape of the digit strings `pattern` accepts as a whole, or None when it accepts
    none or is too unusual to describe (then the keypad shows no format hint)."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        parsed = _parser.parse(pattern, re.IGNORECASE)
        span = _sequence(list(parsed.data), _parser)
    except (re.error, _Unusual):
        return None
    if span is None or span[1] == 0:
        return None
    return NumberShape(span[0], span[1], span[2])


class _Unusual(Exception):
    """A construct number_shape does not describe (a backreference, an unbounded loop)."""


def _sequence(items: list[object], parser: object) -> _Span | None:
    lo = hi = 0
    prefix, open_prefix = "", True
    for item in items:
        span = _item(item, parser)
        if span is None:
            return None
        lo, hi = lo + span[0], hi + span[1]
        if open_prefix:
            prefix += span[2]
            open_prefix = span[3] and span[0] == span[1] == len(span[2])
    return lo, hi, prefix, open_prefix


def _item(item: Any, parser: object) -> _Span | None:
    """One node of the parsed pattern, restricted to digits; None: it cannot match digits."""
    op: Any = item[0]
    arg: Any = item[1]
    name = str(op)
    if name == "LITERAL":
        char = chr(arg)
        return (1, 1, char, True) if char in _DIGITS else None
    if name == "IN":
        return (1, 1, "", False) if _class_has_digits(arg) else None
    if name == "ANY":
        return 1, 1, "", False
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return 0, 0, "", True  # zero-width: lookarounds are not checked here
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = arg
        if high == getattr(parser, "MAXREPEAT", 2**32 - 1) or high > 64:
            raise _Unusual("unbounded repeat")
        inner = _sequence(list(body), parser)
        if inner is None:
            return (0, 0, "", True) if low == 0 else None
        fixed = low == high and inner[0] == inner[1] == len(inner[2]) and inner[3]
        prefix = inner[2] * low if fixed else (inner[2] if low else "")
        return low * inner[0], high * inner[1], prefix, bool(fixed)
    if name in ("SUBPATTERN", "ATOMIC_GROUP"):
        body = arg[-1] if name == "SUBPATTERN" else arg
        return _sequence(list(body), parser)
    if name == "BRANCH":
        return _either([_sequence(list(b), parser) for b in arg[1]])
    if name == "GROUPREF_EXISTS":
        _group, yes, no = arg
        return _either([_sequence(list(yes), parser), _sequence(list(no or []), parser)])
    raise _Unusual(name)


def _either(spans: list[_Span | None]) -> _Span | None:
    possible = [s for s in spans if s is not None]
    if not possible:
        return None
    prefixes = [s[2] for s in possible]
    common = prefixes[0]
    for other in prefixes[1:]:
        while not other.startswith(common):
            common = common[:-1]
    whole = len({s[2] for s in possible}) == 1 and all(s[3] for s in possible)
    return min(s[0] for s in possible), max(s[1] for s in possible), common, whole


def _class_has_digits(items: list[tuple[Any, Any]]) -> bool:
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            raise _Unusual("negated class")
        if name == "LITERAL" and chr(arg) in _DIGITS:
            return True
        if name == "RANGE":
            low, high = arg
            if low <= ord("9") and high >= ord("0"):
                return True
        if name == "CATEGORY" and str(arg) in ("CATEGORY_DIGIT", "CATEGORY_WORD"):
            return True
    return False
