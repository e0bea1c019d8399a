"""Every user-facing string comes from both catalogs, and every colour pair is readable.
(No window needed: the catalogs and the theme are plain data.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.protocol import SKM_ELEMENTS
from kiosk.terminal.ui import theme
from kiosk.terminal.ui.i18n import LANGUAGES, catalog, placeholders, translate

UI = Path(__file__).resolve().parents[3] / "kiosk" / "terminal" / "ui"
KEY_USE = re.compile(r"""tr\(\s*["']([a-z_]+\.[a-z_.]+)["']""")


# Keys a screen builds from a prefix and a value: each prefix with every value it can take.
DYNAMIC = {"skm.q.": [f"skm.q.{element}" for element in SKM_ELEMENTS]}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*UI.rglob("*.py"), *UI.rglob("*.kv")]:
        keys |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    for prefix in [key for key in keys if key.endswith(".")]:
        assert prefix in DYNAMIC, f"{prefix!r}: a key built at run time; name its values here"
        keys = (keys - {prefix}) | set(DYNAMIC[prefix])
    return keys


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    indonesian, english = catalog("id"), catalog("en")
    assert set(indonesian) == set(english)
    for key in indonesian:
        assert placeholders(indonesian[key]) == placeholders(english[key]), key


def test_every_key_the_screens_use_is_in_the_catalogs() -> None:
    keys = used_keys()
    assert len(keys) > 40  # the scan itself works
    missing = sorted(k for k in keys if k not in catalog("id"))
    assert missing == []


def test_every_notice_has_a_title_and_a_body() -> None:
    from kiosk.terminal.session.patron_session import Notice

    for notice in Notice:
        for part in ("title", "body"):
            for language in LANGUAGES:
                assert f"notice.{notice.value}.{part}" in catalog(language)


def test_translation_falls_back_to_indonesian_then_to_the_key() -> None:
    assert translate("welcome.hint", "fr") == catalog("id")["welcome.hint"]
    assert translate("no.such.key", "en") == "no.such.key"
    assert translate("pin.wrong", "en", attempts=3) == "Wrong PIN. 3 attempts left."


@pytest.mark.parametrize(("foreground", "background"), theme.CONTRAST_PAIRS)
def test_text_colours_have_at_least_4_5_to_1_contrast(foreground: str, background: str) -> None:
    assert theme.contrast_ratio(foreground, background) >= 4.5
