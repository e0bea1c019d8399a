"""The Dinas report's gender table with members counted by the gender their library record
(here the members file) gives: every number of the PDF (pdftotext) and the XLSX (openpyxl)
against the visits made here, members, guests and group people; a member erased for privacy,
or without a gender, is counted as not said."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from support.backend_server import JAKARTA, BackendServer, checkin_body
from support.needs import unavailable

from .conftest import ADMIN, add_account
from .test_dinas_report import numbers_after, pdf_text

MEMBERS = (
    "member_id,name,status,expires_on,gender\n"
    "19000301,Budi Santoso,active,2030-12-31,L\n"
    "19000302,Siti Aminah,active,2030-12-31,perempuan\n"
    "19000303,Dewi Lestari,active,2030-12-31,P\n"
    "19000304,Tanpa Keterangan,active,2030-12-31,\n"
    "19000305,Agus Salim,active,2030-12-31,laki-laki\n"
)
# (day, card) of members' visits in November 2024.
VISITS = [
    (4, "19000301"),
    (5, "19000301"),
    (4, "19000302"),
    (6, "19000303"),
    (7, "19000303"),
    (6, "19000304"),
    (8, "19000305"),
]
# (day, size, answers) of guests and a group.
GUESTS = [
    (4, 1, {"purpose": "membaca", "gender": "laki_laki"}),
    (5, 1, {"purpose": "membaca", "gender": "perempuan"}),
    (6, 1, {"purpose": "internet"}),
    (7, 10, {"purpose": "membaca", "count_laki_laki": 4, "count_perempuan": 6}),
]
QUERY = "from=2024-11-01&to=2024-11-30"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext not found (apt-get install poppler-utils)")
    folder = tmp_path_factory.mktemp("gender")
    members = folder / "members.csv"
    members.write_text(MEMBERS, encoding="utf-8")
    server = BackendServer(folder, members_csv=members, privacy={"retention_days": 3650})
    add_account(server, *ADMIN, role="admin")
    for day, card in VISITS:
        moment = dt.datetime(2024, 11, day, 9, 30, tzinfo=JAKARTA).isoformat()
        body = checkin_body(card, want_internet=False, occurred_at=moment)
        answer = server.post("/visits", json=body)
        assert answer.status_code == 201, answer.text
    for day, size, answers in GUESTS:
        guest = {
            "client_ref": str(uuid.uuid4()),
            "name": "Tamu",
            "institution": "SMP Negeri 2" if size > 1 else "",
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": dt.datetime(2024, 11, day, 10, tzinfo=JAKARTA).isoformat(),
            "group_size": size,
            "answers": answers,
        }
        answer = server.post("/guest-visits", json=guest)
        assert answer.status_code == 201, answer.text
    yield server
    server.stop()


@pytest.fixture
def page(browser: Any, server: BackendServer) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server.base_url)
    page = ctx.new_page()
    page.goto("/staff/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    yield page
    ctx.close()


def gender_part(text: str, title: str) -> str:
    """The PDF's text from the gender table's title to the next table's."""
    start = text.index(title)
    end = text.find("Layanan internet", start)
    return text[start : end if end > 0 else None]


def gender_rows(page: Any) -> list[list[Any]]:
    book = openpyxl.load_workbook(
        io.BytesIO(page.request.get(f"/staff/reports/visits.xlsx?{QUERY}").body())
    )
    [sheet] = [s for s in book.worksheets if "jenis kelamin" in str(s["A3"].value)]
    return [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]


def test_members_are_counted_by_their_gender_and_an_erased_one_as_not_said(
    page: Any, server: BackendServer, tmp_path: Path
) -> None:
    held = json.loads(server.kiosk("privacy", "export", "19000305").stdout)
    assert held["member"]["gender"] == "laki_laki"
    title = "Pengunjung menurut jenis kelamin"
    before = pdf_text(
        page.request.get(f"/staff/reports/visits.pdf?{QUERY}").body(), tmp_path, "dinas-gender-id"
    )
    part = gender_part(before, title)
    # Members, guests, group people, all.
    assert numbers_after(part, "Laki-laki") == [3, 1, 4, 8]
    assert numbers_after(part, "Perempuan") == [3, 1, 6, 10]
    assert numbers_after(part, "Tidak diisi / tidak ditanyakan") == [1, 1, 0, 2]
    assert numbers_after(part, "Jumlah") == [7, 3, 10, 20]
    assert gender_rows(page) == [
        ["Jenis kelamin", "Kunjungan anggota", "Tamu", "Orang dalam rombongan", "Jumlah"],
        ["Laki-laki", 3, 1, 4, 8],
        ["Perempuan", 3, 1, 6, 10],
        ["Tidak diisi / tidak ditanyakan", 1, 1, 0, 2],
        ["Jumlah", 7, 3, 10, 20],
    ]
    erased = server.kiosk("privacy", "erase", "19000305")
    assert "member record 1" in erased.stdout
    after = pdf_text(
        page.request.get(f"/staff/reports/visits.pdf?{QUERY}").body(),
        tmp_path,
        "dinas-gender-erased-id",
    )
    part = gender_part(after, title)
    assert numbers_after(part, "Laki-laki") == [2, 1, 4, 7]
    assert numbers_after(part, "Perempuan") == [3, 1, 6, 10]
    assert numbers_after(part, "Tidak diisi / tidak ditanyakan") == [2, 1, 0, 3]
    assert numbers_after(part, "Jumlah") == [7, 3, 10, 20]
    rows = gender_rows(page)
    assert rows[1:] == [
        ["Laki-laki", 2, 1, 4, 7],
        ["Perempuan", 3, 1, 6, 10],
        ["Tidak diisi / tidak ditanyakan", 2, 1, 0, 3],
        ["Jumlah", 7, 3, 10, 20],
    ]
    lines = page.request.get(f"/staff/reports/visits.csv?{QUERY}").text().splitlines()
    assert "Laki-laki,2,1,4,7" in lines and "Perempuan,3,1,6,10" in lines
    page.request.get("/staff/language/en")
    english = pdf_text(
        page.request.get(f"/staff/reports/visits.pdf?{QUERY}").body(), tmp_path, "dinas-gender-en"
    )
    part = english[english.index("Visitors by gender") :]
    assert numbers_after(part, "Male") == [2, 1, 4, 7]
    assert numbers_after(part, "Female") == [3, 1, 6, 10]
