"""The translation layer: every user-facing string comes from the id or en catalog."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Formatter

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
_HERE = Path(__file__).parent


@cache
def catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_HERE / f"{language}.json").read_text(encoding="utf-8"))
    return data


def translate(key: str, language: str, **values: object) -> str:
    """The text for `key` in `language` (falling back to Bahasa Indonesia, then the key)."""
    text = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}
