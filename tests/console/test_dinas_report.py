"""The report for the Dinas against the visits made here: every number of the PDF (read back
with pdftotext) and of the XLSX (openpyxl), guests and groups included; text that looks like
a formula stays text; a credential issued at the service counter is no guestbook visit; the
visit list shows answers' labels and members' names."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from support.backend_server import JAKARTA, BackendServer, checkin_body
from support.needs import unavailable

from .conftest import ADMIN, ARTIFACTS, add_account

LIBRARY = "=Perpustakaan Uji"  # a name that a spreadsheet would take for a formula
MONTH = (dt.date(2024, 11, 1), dt.date(2024, 11, 30))
# (day, purpose, occupation) of members' visits at a kiosk.
MEMBER_VISITS = [
    (3, "membaca", "pelajar"),
    (3, "internet", "mahasiswa"),
    (3, "membaca", "pelajar"),
    (14, "penelitian", "swasta"),
    (30, "membaca", "pns"),
]
# (day, name, institution, size, answers) of guests and groups.
GUESTS = [
    (3, "Tamu Satu", "", 1, {"purpose": "membaca", "gender": "perempuan", "education": "s1"}),
    (14, "Tamu Dua", "", 1, {"purpose": "internet", "gender": "laki_laki"}),
    (
        14,
        "Ibu Guru",
        "=SMA Negeri 1",
        12,
        {"purpose": "membaca", "count_laki_laki": 5, "count_perempuan": 7},
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext not found (apt-get install poppler-utils)")
    library = {
        "name": LIBRARY,
        "letterhead": ["PEMERINTAH PROVINSI UJI", "DINAS PERPUSTAKAAN", "Jl. Uji No. 1"],
        "city": "Pangkalpinang",
        "signatory": {"name": "Dra. Siti Aminah", "nip": "196801011990032001", "title": "Kepala"},
    }
    server = BackendServer(
        tmp_path_factory.mktemp("dinas"), privacy={"retention_days": 3650}, library=library
    )
    add_account(server, *ADMIN, role="admin")
    for day, purpose, occupation in MEMBER_VISITS:
        moment = dt.datetime(2024, 11, day, 9, 30, tzinfo=JAKARTA).isoformat()
        answers = {"purpose": purpose, "occupation": occupation}
        body = checkin_body(want_internet=False, answers=answers, occurred_at=moment)
        assert server.post("/visits", json=body).status_code == 201
    for day, name, institution, size, answers in GUESTS:
        guest = {
            "client_ref": str(uuid.uuid4()),
            "name": name,
            "institution": institution,
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


def pdf_text(data: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / f"{name}.pdf")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def numbers_after(text: str, label: str) -> list[int]:
    """The numbers on the line that starts with `label` (thousands written 1.234)."""
    for line in text.splitlines():
        if line.strip().startswith(label):
            rest = line.strip()[len(label) :]
            return [int(n.replace(".", "")) for n in re.findall(r"\d[\d.]*", rest)]
    raise AssertionError(f"no line starting {label!r} in:\n{text}")


def test_the_month_pdf_counts_every_visitor_with_kop_title_and_signatory(
    page: Any, tmp_path: Path
) -> None:
    query = f"from={MONTH[0]}&to={MONTH[1]}"
    response = page.request.get(f"/staff/reports/visits.pdf?{query}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path, "dinas-november-id")
    for line in ("PEMERINTAH PROVINSI UJI", "DINAS PERPUSTAKAAN", "Jl. Uji No. 1"):
        assert line in text
    assert "LAPORAN PENGUNJUNG PERPUSTAKAAN BULAN NOVEMBER 2024" in text
    assert LIBRARY in text
    # Per day: members' visits, guests, groups, their people, all.
    assert numbers_after(text, "3 November 2024") == [3, 1, 0, 0, 4]
    assert numbers_after(text, "14 November 2024") == [1, 1, 1, 12, 14]
    assert numbers_after(text, "30 November 2024") == [1, 0, 0, 0, 1]
    assert numbers_after(text, "2 November 2024") == [0, 0, 0, 0, 0]
    # Purpose: members, guests, group people, all ("Jumlah" rows follow every table).
    assert numbers_after(text, "Membaca") == [3, 1, 12, 16]
    assert numbers_after(text, "Internet") == [1, 1, 0, 2]
    assert numbers_after(text, "Penelitian") == [1, 0, 0, 1]
    assert numbers_after(text, "Pelajar") == [2, 0, 0, 2]
    # Gender: the group's per-gender counts added; members are not asked here.
    assert numbers_after(text, "Laki-laki") == [0, 1, 5, 6]
    assert numbers_after(text, "Perempuan") == [0, 1, 7, 8]
    jumlah = [
        numbers_after(line, "Jumlah")
        for line in text.splitlines()
        if line.strip().startswith("Jumlah")
    ]
    assert [5, 2, 1, 12, 19] in jumlah and [5, 2, 12, 19] in jumlah
    assert "Pangkalpinang, " in text and "Dra. Siti Aminah" in text
    assert "NIP. 196801011990032001" in text
    page.request.get("/staff/language/en")
    english = pdf_text(
        page.request.get(f"/staff/reports/visits.pdf?{query}").body(), tmp_path, "en"
    )
    assert "LIBRARY VISITOR REPORT, NOVEMBER 2024" in english
    assert numbers_after(english, "14 November 2024") == [1, 1, 1, 12, 14]
    assert numbers_after(english, "Reading") == [3, 1, 12, 16]


def test_the_year_pdf_goes_month_by_month(page: Any, tmp_path: Path) -> None:
    data = page.request.get("/staff/reports/visits.pdf?from=2024-01-01&to=2024-12-31").body()
    text = pdf_text(data, tmp_path, "dinas-2024-id")
    assert "LAPORAN PENGUNJUNG PERPUSTAKAAN TAHUN 2024" in text
    assert numbers_after(text, "November 2024") == [5, 2, 1, 12, 19]
    assert numbers_after(text, "Oktober 2024") == [0, 0, 0, 0, 0]
    assert "3 November 2024" not in text  # no 366 daily rows


def test_the_xlsx_has_the_same_tables_with_dates_numbers_and_text(page: Any) -> None:
    query = f"from={MONTH[0]}&to={MONTH[1]}"
    book = openpyxl.load_workbook(
        io.BytesIO(page.request.get(f"/staff/reports/visits.xlsx?{query}").body())
    )
    days = book.worksheets[0]
    assert days["A1"].value == "Laporan Pengunjung Perpustakaan Bulan November 2024"
    assert days["A2"].value == LIBRARY and days["A2"].data_type == "s"  # not a formula
    rows = [list(r) for r in days.iter_rows(min_row=5, values_only=True)]
    assert rows[0][0] == "Tanggal" and rows[0][-1] == "Jumlah pengunjung"
    assert rows[3] == [dt.datetime(2024, 11, 3), 3, 1, 0, 0, 4]
    assert rows[14] == [dt.datetime(2024, 11, 14), 1, 1, 1, 12, 14]
    assert rows[-1] == ["Jumlah", 5, 2, 1, 12, 19]
    purpose = [list(r) for r in book.worksheets[1].iter_rows(min_row=5, values_only=True)]
    assert ["Membaca", 3, 1, 12, 16] in purpose and purpose[-1] == ["Jumlah", 5, 2, 12, 19]
    gender = [list(r) for r in book.worksheets[4].iter_rows(min_row=5, values_only=True)]
    assert gender[1:3] == [["Laki-laki", 0, 1, 5, 6], ["Perempuan", 0, 1, 7, 8]]
    text = page.request.get(f"/staff/reports/visits.csv?{query}").text().lstrip("\ufeff")
    lines = text.splitlines()
    assert lines[1] == "'" + LIBRARY  # a CSV cell that would be a formula starts with '
    assert "2024-11-14,1,1,1,12,14" in lines and "Jumlah,5,2,1,12,19" in lines


def test_a_counter_issue_is_on_its_own_line_and_no_guestbook_visit(page: Any) -> None:
    today = dt.datetime.now(JAKARTA).date().isoformat()
    query = f"from={today}&to={today}"

    def members_and_counter() -> tuple[list[str], list[str]]:
        lines = page.request.get(f"/staff/reports/visits.csv?{query}").text().splitlines()
        jumlah = next(line for line in lines if line.startswith("Jumlah,"))
        counter = next(line for line in lines if "meja layanan" in line)
        return jumlah.split(","), counter.rsplit(",", 1)

    before, counter_before = members_and_counter()
    page.goto("/staff/credentials")
    page.fill("#member_id", "19000123")
    with page.expect_navigation():
        page.click("form[action='/staff/credentials/issue'] button")
    after, counter_after = members_and_counter()
    assert after == before  # the guestbook's figures did not move
    assert int(counter_after[1]) == int(counter_before[1]) + 1


def test_the_visit_list_shows_labels_and_names(page: Any) -> None:
    page.goto(f"/staff/visits?start={MONTH[0]}&end={MONTH[1]}")
    table = page.locator("table.wide").inner_text()
    assert "Membaca, Pelajar" in table and "Penelitian, Swasta" in table
    assert "membaca" not in table  # the key
    name = page.locator(".member-name").first.inner_text()
    assert name and name != "19000123"
    page.goto("/staff/members/19000123")
    assert "Membaca, Pelajar" in page.locator("table.wide").nth(1).inner_text()


# Four surveys of October 2024 (the last one skipped after two elements) and the profile
# each gave; the IKM below is computed by hand from them.
SURVEYS = [
    ([4, 4, 4, 4, 4, 4, 4, 4, 4], {"gender": "perempuan", "occupation": "pelajar"}),
    ([3, 3, 3, 3, 3, 3, 3, 3, 2], {"gender": "laki_laki", "occupation": "mahasiswa"}),
    ([4, 3, 2, 4, 3, 4, 4, 1, 3], {"gender": "perempuan"}),
    ([2, 3], {}),
]


def test_the_skm_report_gives_the_ikm_computed_by_hand(
    page: Any, server: BackendServer, tmp_path: Path
) -> None:
    for n, (scores, profile) in enumerate(SURVEYS):
        body = {
            "client_ref": str(uuid.uuid4()),
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": dt.datetime(2024, 10, 2 + n, 11, tzinfo=JAKARTA).isoformat(),
            "answers": {f"u{i}": score for i, score in enumerate(scores, start=1)},
            "profile": profile,
        }
        assert server.post("/satisfaction", json=body).status_code == 201
    # NRR: u1 (4+3+4+2)/4 = 3.25, u2 (4+3+3+3)/4 = 3.25, u3 9/3 = 3, u4 11/3, u5 10/3,
    # u6 11/3, u7 11/3, u8 8/3, u9 9/3 = 3; their sum 29.5, mean 3.2778; x 25 = 81.94: B.
    nrr = [13 / 4, 13 / 4, 3, 11 / 3, 10 / 3, 11 / 3, 11 / 3, 8 / 3, 3]
    ikm = round(sum(nrr) / 9 * 25, 2)
    assert ikm == 81.94
    query = "from=2024-10-01&to=2024-10-31"
    text = pdf_text(page.request.get(f"/staff/reports/skm.pdf?{query}").body(), tmp_path, "skm")
    assert "LAPORAN SURVEI KEPUASAN MASYARAKAT BULAN OKTOBER 2024" in text
    assert "PEMERINTAH PROVINSI UJI" in text and "Dra. Siti Aminah" in text
    assert re.search(r"IKM konversi \(25-100\)\s+81,94\n", text)
    assert re.search(r"Mutu pelayanan\s+B\b", text)
    assert re.search(r"Kinerja unit pelayanan\s+Baik\b", text)
    assert numbers_after(text, "Responden ") == [4]
    assert re.search(r"Persyaratan\s+4\s+3,25\s+0,361\s+B", text)  # 81.25
    assert re.search(r"Waktu penyelesaian\s+3\s+3,00\s+0,333\s+C", text)  # 75.00
    assert re.search(r"tertimbang\s+4\s+3,278\s+B", text)  # the weighted NRRs' sum
    assert re.search(r"Kompetensi pelaksana\s+3\s+3,67\s+0,407\s+A", text)
    weakest = text[text.index("Unsur dari yang terlemah") :]
    assert weakest.index("Penanganan pengaduan") < weakest.index("Persyaratan")
    occupation = text[text.index("Responden menurut pekerjaan") :]
    assert numbers_after(occupation, "Pelajar") == [1]
    assert numbers_after(occupation, "Tidak diisi / tidak ditanyakan") == [2]
    gender = text[text.index("Responden menurut jenis kelamin") :]
    assert numbers_after(gender, "Perempuan") == [2]
    assert numbers_after(gender, "Laki-laki") == [1]
    assert numbers_after(gender, "Tidak diisi / tidak ditanyakan") == [1]
    book = openpyxl.load_workbook(
        io.BytesIO(page.request.get(f"/staff/reports/skm.xlsx?{query}").body())
    )
    summary = [list(r) for r in book.worksheets[0].iter_rows(min_row=5, values_only=True)]
    assert summary[1] == ["Responden", 4]
    assert summary[3] == ["IKM konversi (25-100)", 81.94] and summary[4][1] == "B"
    elements = [list(r) for r in book.worksheets[1].iter_rows(min_row=5, values_only=True)]
    assert [row[2] for row in elements[1:10]] == [round(v, 2) for v in nrr]
    for language, ikm in (("id", "81,94"), ("en", "81.94")):
        page.goto(f"/staff/language/{language}?next=/staff/")
        page.goto("/staff/reports/skm?period=month&date=2024-10-15")
        assert ikm in page.locator("#skm-ikm").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"skm-page-{language}.png"), full_page=True)


def test_a_semester_picked_on_laporan_and_skm_titles_the_pdf(
    browser: Any, server: BackendServer, tmp_path: Path
) -> None:
    from .test_accessibility import AXE, violations_of

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci --prefix tests/console/axe)")
    # bypass_csp: axe is injected as a script, which the console's CSP forbids.
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=server.base_url, bypass_csp=True
    )
    page = ctx.new_page()
    page.goto("/staff/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    titles = {
        "id": ("SEMESTER II (JULI-DESEMBER)", "PERPUSTAKAAN SEMESTER II TAHUN 2024"),
        "en": ("SEMESTER II (JULY-DECEMBER)", "LIBRARY VISITOR REPORT, SEMESTER II OF 2024"),
    }
    found: dict[str, list[str]] = {}
    for language, (option, title) in titles.items():
        page.goto(f"/staff/language/{language}?next=/staff/reports")
        page.select_option("#period", "semester2")
        page.fill("#date", "2024-08-17")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        chosen = page.locator("#period option:checked").inner_text()
        assert chosen.upper() == option
        assert "2024-07-01 - 2024-12-31" in page.locator(".period-line").inner_text()
        assert (page.input_value("#start"), page.input_value("#end")) == (
            "2024-07-01",
            "2024-12-31",
        )
        found[f"reports-{language}"] = violations_of(page)
        page.screenshot(path=str(ARTIFACTS / f"semester-reports-{language}.png"), full_page=True)
        href = page.locator("#report-pdf").get_attribute("href")
        assert href == "/staff/reports/visits.pdf?from=2024-07-01&to=2024-12-31"
        text = pdf_text(page.request.get(href).body(), tmp_path, f"dinas-semester-{language}")
        assert title in text
        month = "November 2024"
        assert numbers_after(text, month) == [5, 2, 1, 12, 19]
        assert "Juni 2024" not in text and "June 2024" not in text
        # The SKM page's picker: Semester I of the same year.
        page.click("#skm-link")
        page.select_option("#period", "semester1")
        page.fill("#date", "2024-03-01")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        found[f"skm-{language}"] = violations_of(page)
        page.screenshot(path=str(ARTIFACTS / f"semester-skm-{language}.png"), full_page=True)
        href = page.locator("#skm-pdf").get_attribute("href")
        assert href == "/staff/reports/skm.pdf?from=2024-01-01&to=2024-06-30"
        skm = pdf_text(page.request.get(href).body(), tmp_path, f"skm-semester-{language}")
        expected = {
            "id": "LAPORAN SURVEI KEPUASAN MASYARAKAT SEMESTER I TAHUN 2024",
            "en": "PUBLIC SATISFACTION SURVEY REPORT, SEMESTER I OF 2024",
        }
        assert expected[language] in skm
    ctx.close()
    assert not any(found.values()), found
