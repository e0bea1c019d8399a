"""The console's own translation layer: catalogs i18n/id.json and en.json, Indonesian first."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

CATALOGS = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "kiosk_staff_lang"

Translate = Callable[..., str]


@cache
def catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGS / f"{language}.json").read_text("utf-8"))
    return data


def choose_language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def translator(language: str) -> Translate:
    """t(key, **values): the catalog's text with {placeholders} filled; a missing key
    shows itself as it is, never formatted (it may be text from a file: `{x}` or
    `{until.__class__}` must not be evaluated), and the catalog test keeps that from shipping.
    A count passed as `n` chooses the singular "<key>.one" when there is one."""
    texts = catalog(language)

    def t(key: str, **values: Any) -> str:
        # Plurals: `n` == 1 picks "<key>.one" where the catalog has it ("1 visit").
        text = texts.get(f"{key}.one") if values.get("n") == 1 else None
        text = text or texts.get(key)
        if text is None:
            return key
        return text.format(**values) if values else text

    return t
