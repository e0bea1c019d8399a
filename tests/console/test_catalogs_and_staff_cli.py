"""The console's id/en catalogs match and cover every key the pages use; `kiosk staff`
adds, refuses short or differing passwords, lists and disables accounts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.backend_server import BackendServer

CONSOLE = Path(__file__).resolve().parents[2] / "kiosk" / "backend" / "console"


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    id_ = json.loads((CONSOLE / "i18n" / "id.json").read_text("utf-8"))
    en = json.loads((CONSOLE / "i18n" / "en.json").read_text("utf-8"))
    assert set(id_) == set(en)
    for key in id_:
        assert set(re.findall(r"{(\w+)}", id_[key])) == set(re.findall(r"{(\w+)}", en[key])), key
        assert id_[key].strip() and en[key].strip(), key


def test_every_literal_key_the_templates_and_pages_use_is_in_the_catalog() -> None:
    keys = set(json.loads((CONSOLE / "i18n" / "id.json").read_text("utf-8")))
    used: set[str] = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        used |= set(re.findall(r't\("([a-z_.0-9]+)"\)', template.read_text("utf-8")))
        used |= set(re.findall(r'\("/staff/[a-z]*", "([a-z_.]+)"\)', template.read_text("utf-8")))
    for module in [*CONSOLE.glob("*.py"), CONSOLE.parent / "library" / "members.py"]:
        text = module.read_text("utf-8")
        used |= set(
            re.findall(
                r'"((?:[a-z]+)\.(?:error|revoked|renamed|added|changed|file|problem|done'
                r'|unlocked|changed)[a-z_.]*)"',
                text,
            )
        )
        used |= {f"forbidden.{reason}" for reason in re.findall(r'Forbidden\("([a-z_]+)"\)', text)}
        used |= {f"{key}" for key in re.findall(r"notice=([a-z_]+\.[a-z_.]+)", text)}
    assert used - keys == set()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> BackendServer:
    return BackendServer(tmp_path_factory.mktemp("staff-cli"), start=False)


def test_staff_add_list_disable_and_password_rules(server: BackendServer) -> None:
    server.kiosk_with_input(
        "panjang-sekali-1\npanjang-sekali-1\n", "staff", "add", "Rina", "--role", "admin"
    )
    with pytest.raises(RuntimeError, match="at least 10 characters"):
        server.kiosk_with_input("pendek\npendek\n", "staff", "add", "budi")
    with pytest.raises(RuntimeError, match="differ"):
        server.kiosk_with_input("panjang-sekali-1\npanjang-sekali-2\n", "staff", "passwd", "rina")
    server.kiosk("staff", "disable", "rina")
    listing = server.kiosk("staff", "list").stdout
    assert "rina\tadmin\tdisabled" in listing and "panjang" not in listing
    stored = server.database_path.read_bytes()
    assert b"panjang-sekali-1" not in stored and b"$argon2id$" in stored


def test_counts_of_one_read_as_one_and_file_text_is_never_formatted() -> None:
    from kiosk.backend.console.i18n import translator

    english, indonesian = translator("en"), translator("id")
    assert english("visits.count", n=1) == "1 visit"
    assert english("visits.count", n=2) == "2 visits"
    assert indonesian("visits.count", n=1) == "1 kunjungan"
    assert english("line 1: header is '{x}'", n=1) == "line 1: header is '{x}'"


def test_audit_details_read_as_words_in_the_pages_language() -> None:
    from kiosk.backend.console.audit import readable
    from kiosk.backend.console.i18n import translator

    detail = "member=19000123 username=p75g7mb reused=True"
    assert readable(detail, translator("id")) == "anggota 19000123, akun p75g7mb, dipakai lagi: Ya"
    assert (
        readable(detail, translator("en")) == "member 19000123, account p75g7mb, shown again: Yes"
    )
    in_english = readable("anggota baru.csv: added=3 updated=0", translator("en"))
    assert in_english == "anggota baru.csv: added 3, updated 0"


def test_a_group_of_one_person_reads_as_one_person_in_english() -> None:
    from kiosk.backend.console.i18n import translator

    english, indonesian = translator("en"), translator("id")
    assert english("reports.groups", n=1) == "Groups (1 person)"
    assert english("today.groups", n=25) == "groups (25 people)"
    assert indonesian("reports.groups", n=1) == "Rombongan (1 orang)"
