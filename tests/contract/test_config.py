"""config.toml: the shipped file loads, and a wrong value stops with key, value and rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import ConfigError, Settings, load_settings, parse_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_config_loads_and_differs_from_defaults_where_it_says() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.kiosk.kiosk_id == "kiosk-pintu-utama"
    assert settings.backend.api_tokens == [settings.kiosk.api_token]
    assert [f.key for f in settings.guestbook.fields] == [
        "purpose",
        "occupation",
        "education",
        "institution",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"backend": {"api_tokens": ["short"]}}, "backend.api_tokens"),
        ({"backend": {"timezone": "Asia/Bangka"}}, "unknown time zone"),
        ({"kiosk": {"language": "jv"}}, "kiosk.language = 'jv'"),
        ({"kiosk": {"kiosk_id": ""}}, "kiosk.kiosk_id"),
        ({"kiosk": {"timeouts": {"guestbook": 0}}}, "kiosk.timeouts.guestbook = 0"),
        ({"cards": {"pattern": "(19\\d{6})"}}, "named group (?P<id>"),
        ({"cards": {"pattern": "(?P<id>[0-9"}}, "not a valid regular expression"),
        ({"library": {"qr_template": "WIFI:S:{ssid};P:{pass};;"}}, "placeholders are"),
        (
            {"library": {"login_qr_template": "http://{login_host}/login?u={user}"}},
            "library.login_qr_template = 'http://{login_host}/login?u={user}': placeholders are",
        ),
        ({"kiosk": {"backend_ur1": "http://x"}}, "kiosk.backend_ur1: unknown key"),
        (
            {"guestbook": {"fields": [{"key": "a", "label": {"id": "A", "en": "A"}}]}},
            "is a choice with no choices",
        ),
    ],
)
def test_a_wrong_value_names_the_key_the_value_and_the_rule(
    data: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    assert expected in str(caught.value)


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "missing.toml")


def test_broken_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[kiosk\nlanguage = 'id'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


def test_overrides_are_validated_again() -> None:
    with pytest.raises(ConfigError):
        Settings().with_overrides(kiosk={"read_timeout": -1})


def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[backend]\nport = 99999\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "backend.port = 99999" in result.stderr


@pytest.mark.parametrize(
    ("days", "id_words", "en_words"),
    [(365, "1 tahun", "1 year"), (730, "2 tahun", "2 years"), (180, "6 bulan", "6 months"),
     (45, "45 hari", "45 days")],
)  # fmt: skip
def test_the_privacy_notice_says_how_long_privacy_retention_days_keeps_visits(
    days: int, id_words: str, en_words: str
) -> None:
    guestbook = parse_settings({"privacy": {"retention_days": days}}).guestbook
    assert f"disimpan {id_words} untuk" in guestbook.privacy_notice.get("id")
    assert f"kept for {en_words} for" in guestbook.privacy_notice.get("en")
    assert f"paling lama {id_words}," in guestbook.privacy_notice_full.get("id")
    assert f"at most {en_words}," in guestbook.privacy_notice_full.get("en")
    own = {"id": "Disimpan {retention}.", "en": "Kept {retention}."}
    custom = parse_settings(
        {"privacy": {"retention_days": days}, "guestbook": {"privacy_notice": own}}
    )
    assert custom.guestbook.privacy_notice.get("en") == f"Kept {en_words}."


def test_the_login_qr_carries_the_credential_url_encoded_into_the_hotspot_url() -> None:
    library = parse_settings(
        {
            "library": {
                "login_url": "http://login.perpustakaan.lan:8080/",
                "login_qr_template": "http://{login_host}/login?username={username}&password={password}",
            }
        }
    ).library
    assert library.login_qr("budi s", "a&b=c/d") == (
        "http://login.perpustakaan.lan:8080/login?username=budi%20s&password=a%26b%3Dc%2Fd"
    )
    assert Settings().library.login_qr("u", "p") == ""  # no template: no second QR
