"""Member CSV files as Indonesian spreadsheets write them, and `kiosk members import`."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import tomlkit

from kiosk.backend.library.members import MemberFileError, parse_date, parse_members_csv
from kiosk.cards import CardReader
from kiosk.cli import main

PATTERN = r"(?P<start>[A-D])?(?P<id>19\d{6})(?(start)[A-D])"
READER = CardReader(PATTERN)
DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "members.csv"

GOOD = (
    "member_id,name,status,expires_on,institution\n"
    "19000001,Siti Aminah,active,2027-12-31,SMAN 1 Pangkalpinang\n"
    "19000002,Bong Kim Lan,blocked,31/01/2027,\n"
    "19000003,Ahmad Fauzi,expired,,Universitas Bangka Belitung\n"
)


def test_comma_file_with_both_date_forms_and_empty_expiry() -> None:
    parsed = parse_members_csv(GOOD.encode(), READER)
    assert parsed.problems == []
    assert [(r.id, r.status.value, r.expires_on) for r in parsed.records] == [
        ("19000001", "active", dt.date(2027, 12, 31)),
        ("19000002", "blocked", dt.date(2027, 1, 31)),
        ("19000003", "expired", None),
    ]
    assert parsed.records[0].institution == "SMAN 1 Pangkalpinang"
    assert parsed.records[1].institution is None


def test_semicolon_file_with_bom_and_crlf_from_excel() -> None:
    data = GOOD.replace(",", ";").replace("\n", "\r\n").encode("utf-8-sig")
    parsed = parse_members_csv(data, READER)
    assert parsed.problems == []
    assert len(parsed.records) == 3


def test_institution_column_is_optional_and_quoted_commas_are_kept() -> None:
    data = 'member_id,name,status,expires_on\n19000004,"Liem, Siu Fung",active,2027-01-01\n'
    parsed = parse_members_csv(data.encode(), READER)
    assert parsed.records[0].name == "Liem, Siu Fung"


def test_every_bad_row_is_reported_by_file_line_and_reason() -> None:
    data = (
        "member_id,name,status,expires_on\n"  # line 1
        "19000001,Siti Aminah,active,2027-12-31\n"  # 2 good
        "1.9E+07,Spreadsheet Number,active,\n"  # 3 id mangled
        "19000003,,active,\n"  # 4 no name
        "19000004,Rudi,aktif,\n"  # 5 status
        "19000005,Eko,active,31-12-2027\n"  # 6 date form
        "19000006,Sri,active,30/02/2027\n"  # 7 no such day
        "\n"  # 8 blank: skipped
        "19000001,Siti Again,active,\n"  # 9 duplicate
        "19000007,Yusuf,active\n"  # 10 columns
    )
    parsed = parse_members_csv(data.encode(), READER)
    lines = {problem.line: problem.reason for problem in parsed.problems}
    assert sorted(lines) == [3, 4, 5, 6, 7, 9, 10]
    assert "[cards] pattern" in lines[3]
    assert "name is empty" in lines[4]
    assert "expected active, expired or blocked" in lines[5]
    assert "YYYY-MM-DD or DD/MM/YYYY" in lines[6]
    assert "30/02/2027" in lines[7]
    assert "repeats line 2" in lines[9]
    assert "columns" in lines[10]
    assert [r.id for r in parsed.records] == ["19000001"]


def test_member_ids_compare_case_insensitively() -> None:
    reader = CardReader(r"(?P<id>BB\d{4})")
    data = "member_id,name,status,expires_on\nbb1234,Nurhayati,ACTIVE,\n"
    assert parse_members_csv(data.encode(), reader).records[0].id == "BB1234"


def test_a_multiline_cell_does_not_shift_line_numbers() -> None:
    data = (
        'member_id,name,status,expires_on,institution\n19000001,Siti,active,,"SMAN 1\nPangkal"\n'
        "19000002,Bad,active,someday,\n"
    )
    parsed = parse_members_csv(data.encode(), READER)
    assert [p.line for p in parsed.problems] == [4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"id,nama,status\n1,2,3\n", "expected member_id,name,status,expires_on"),
        ("member_id,name,status,expires_on\n19000001,Sité,active,\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(MemberFileError, match=message):
        parse_members_csv(data, READER)


def test_dates_in_both_forms() -> None:
    assert parse_date("2027-03-09") == dt.date(2027, 3, 9)
    assert parse_date("9/3/2027") == dt.date(2027, 3, 9)
    assert parse_date("  ") is None
    with pytest.raises(ValueError):
        parse_date("2027/03/09")


def test_demo_members_file_is_clean_and_has_the_ui_members() -> None:
    parsed = parse_members_csv(DEMO.read_bytes(), READER)
    assert parsed.problems == []
    by_id = {r.id: r for r in parsed.records}
    assert 20 <= len(by_id) <= 30
    assert by_id["19000123"].name == "Siti Aminah"
    assert by_id["19000123"].status.value == "active"
    assert by_id["19000124"].status.value == "expired"
    assert by_id["19000125"].status.value == "blocked"
    assert [r.status.value for r in parsed.records].count("blocked") == 1


# ---------------------------------------------------------------- the command


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    settings = {
        "cards": {"pattern": PATTERN},
        "backend": {
            "database_url": f"sqlite:///{tmp_path / 'kiosk.db'}",
            "api_tokens": ["import-test-token-0001"],
        },
    }
    path.write_text(tomlkit.dumps(settings), encoding="utf-8")
    return path


def members_in(config: Path) -> dict[str, str]:
    database = config.parent / "kiosk.db"
    if not database.exists():  # a refused import does not even create the database
        return {}
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT id, name FROM members").fetchall())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "members.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_with_bad_rows_imports_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, GOOD + "19000009,No Date,active,tomorrow,\n")
    assert main(["members", "import", str(csv), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "line 5: expires_on 'tomorrow'" in err
    assert "nothing imported" in err
    assert members_in(config) == {}


def test_skip_invalid_imports_the_good_rows(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, GOOD + "19000009,No Date,active,tomorrow,\n")
    assert main(["members", "import", str(csv), "--skip-invalid", "--config", str(config)]) == 0
    assert "3 added" in capsys.readouterr().out
    assert set(members_in(config)) == {"19000001", "19000002", "19000003"}


def test_import_updates_and_adds_but_deletes_only_with_replace(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["members", "import", str(write(tmp_path, GOOD)), "--config", str(config)]) == 0
    smaller = "member_id,name,status,expires_on\n19000001,Siti Aminah Putri,active,\n"
    csv = write(tmp_path, smaller)
    assert main(["members", "import", str(csv), "--config", str(config)]) == 0
    assert "0 added, 1 updated" in capsys.readouterr().out
    assert len(members_in(config)) == 3
    assert main(["members", "import", str(csv), "--replace", "--config", str(config)]) == 0
    assert "2 deleted" in capsys.readouterr().out
    assert members_in(config) == {"19000001": "Siti Aminah Putri"}


def test_dry_run_validates_and_counts_but_writes_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, GOOD)
    assert main(["members", "import", str(csv), "--dry-run", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "3 added" in out
    assert members_in(config) == {}


def test_replace_refuses_a_file_with_bad_rows(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["members", "import", str(write(tmp_path, GOOD)), "--config", str(config)]) == 0
    bad = write(tmp_path, "member_id,name,status,expires_on\n19000001,Siti,active,\nx,y,z,\n")
    args = ["members", "import", str(bad), "--replace", "--skip-invalid", "--config", str(config)]
    assert main(args) == 1
    assert "--replace would delete" in capsys.readouterr().err
    assert len(members_in(config)) == 3


def test_missing_file_is_one_clear_line(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["members", "import", str(tmp_path / "nope.csv"), "--config", str(config)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_the_optional_birth_date_column_takes_both_date_forms_and_never_echoes_one() -> None:
    data = (
        b"member_id,name,status,expires_on,birth_date\n"
        b"19000123,Siti Aminah,active,,2004-08-17\n"
        b"19000126,Nurhayati,active,,02/05/1990\n"
        b"19000127,Budi,active,,\n"
        b"19000128,Dewi,active,,1990-13-45\n"
    )
    parsed = parse_members_csv(data, READER)
    born = {r.id: r.birth_date for r in parsed.records}
    assert born == {
        "19000123": dt.date(2004, 8, 17),
        "19000126": dt.date(1990, 5, 2),
        "19000127": None,
    }
    assert all(r.has_birth_date for r in parsed.records)
    assert [p.line for p in parsed.problems] == [5]
    assert "1990-13-45" not in str(parsed.problems[0])
    assert "birth_date" in str(parsed.problems[0])


def test_the_optional_gender_column_takes_keys_letters_and_words() -> None:
    data = (
        b"member_id,name,status,expires_on,gender\n"
        b"19000201,Siti,active,,perempuan\n"
        b"19000202,Budi,active,,L\n"
        b"19000203,Dewi,active,,P\n"
        b"19000204,Agus,active,,Laki-laki\n"
        b"19000205,Rina,active,,f\n"
        b"19000206,Eko,active,,m\n"
        b"19000207,Tono,active,,\n"
        b"19000208,Sari,active,,wanita\n"
        b"19000209,Joko,active,,X\n"
    )
    parsed = parse_members_csv(data, READER)
    assert {r.id: r.gender for r in parsed.records} == {
        "19000201": "perempuan",
        "19000202": "laki_laki",
        "19000203": "perempuan",
        "19000204": "laki_laki",
        "19000205": "perempuan",
        "19000206": "laki_laki",
        "19000207": None,
        "19000208": "perempuan",
    }
    assert all(r.has_gender for r in parsed.records)
    [problem] = parsed.problems
    assert problem.line == 10 and problem.key == "members.problem.gender"
    assert "gender 'X'" in str(problem) and "L/P" in str(problem)
    from kiosk.backend.console.i18n import translator

    said = translator("id")(problem.key, **problem.values)
    assert said == (
        "gender 'X': seharusnya laki_laki, perempuan, L/P (laki-laki/perempuan) atau M/F"
    )


def test_the_guest_forms_own_gender_keys_are_what_a_file_brings(tmp_path: Path) -> None:
    from kiosk.backend.library.gender import member_genders
    from kiosk.config import Settings

    fields = [
        {
            "key": "gender",
            "label": {"id": "Jenis kelamin", "en": "Gender"},
            "choices": [
                {"key": "pria", "label": {"id": "Pria", "en": "Man"}},
                {"key": "wanita", "label": {"id": "Wanita", "en": "Woman"}},
            ],
        }
    ]
    settings = Settings().with_overrides(
        guests={"fields": fields},
        members={"inlislite": {"gender_ids": {"pria": 1, "wanita": 2}}},
    )
    data = b"member_id,name,status,expires_on,gender\n19000211,A,active,,L\n19000212,B,active,,P\n"
    parsed = parse_members_csv(data, READER, member_genders(settings))
    assert [r.gender for r in parsed.records] == ["pria", "wanita"]


def test_import_keeps_a_gender_a_file_without_the_column_does_not_name(
    tmp_path: Path, config: Path
) -> None:
    with_gender = "member_id,name,status,expires_on,gender\n19000001,Siti,active,,P\n"
    assert (
        main(["members", "import", str(write(tmp_path, with_gender)), "--config", str(config)]) == 0
    )
    assert genders_in(config) == {"19000001": "perempuan"}
    assert main(["members", "import", str(write(tmp_path, GOOD)), "--config", str(config)]) == 0
    assert genders_in(config) == {"19000001": "perempuan", "19000002": None, "19000003": None}
    changed = "member_id,name,status,expires_on,gender\n19000001,Siti Aminah,active,,\n"
    assert main(["members", "import", str(write(tmp_path, changed)), "--config", str(config)]) == 0
    assert genders_in(config)["19000001"] is None


def genders_in(config: Path) -> dict[str, str | None]:
    with sqlite3.connect(config.parent / "kiosk.db") as db:
        return dict(db.execute("SELECT id, gender FROM members").fetchall())
