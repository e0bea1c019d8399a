"""The member file through the console at a large library's size: kept on the server between
the check and the import (no form field carries it), 100 problems listed and the rest counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.backend_server import BackendServer

from .conftest import ADMIN, add_account

ROWS = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(tmp_path_factory.mktemp("uploads")) as server:
        add_account(server, *ADMIN, role="admin")
        yield server


def check(server: BackendServer, browser: requests.Session, data: bytes) -> requests.Response:
    page = browser.get(f"{server.base_url}/staff/members", timeout=10).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return browser.post(
        f"{server.base_url}/staff/members/upload",
        data={"csrf": csrf},
        files={"file": ("anggota.csv", data, "text/csv")},
        timeout=120,
    )


def hidden(page: str, name: str) -> str:
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_a_hundred_thousand_members_import_through_the_console(server: BackendServer) -> None:
    lines = ["member_id;name;status;expires_on"]
    lines += [f"{19200000 + n};Anggota {n};active;2027-12-31" for n in range(ROWS)]
    data = ("\n".join(lines) + "\n").encode()
    browser = server.staff_browser(*ADMIN)
    preview = check(server, browser, data)
    assert preview.status_code == 200, preview.text[:300]
    assert 'name="payload"' not in preview.text and len(preview.text) < 50_000
    answer = browser.post(
        f"{server.base_url}/staff/members/import",
        data={"csrf": hidden(preview.text, "csrf"), "upload": hidden(preview.text, "upload")},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text[:300]
    result = answer.text.split('id="import-result">', 1)[1].split("</div>", 1)[0]
    assert f"{ROWS} ditambah" in result.replace(".", ""), result
    # Imported once: the kept file is gone, a second post says so instead of importing again.
    again = browser.post(
        f"{server.base_url}/staff/members/import",
        data={"csrf": hidden(preview.text, "csrf"), "upload": hidden(preview.text, "upload")},
        timeout=60,
    )
    assert again.status_code == 400 and "pilih berkasnya sekali lagi" in again.text


def test_a_file_of_bad_rows_lists_a_hundred_and_counts_the_rest(server: BackendServer) -> None:
    lines = ["member_id;name;status;expires_on"]
    lines += [f"{19300000 + n};;active;2027-12-31" for n in range(ROWS)]
    browser = server.staff_browser(*ADMIN)
    preview = check(server, browser, ("\n".join(lines) + "\n").encode())
    assert preview.status_code == 200, preview.text[:300]
    assert preview.text.count('<tr class="bad">') == 100
    assert len(preview.text) < 100_000
    assert f"{ROWS - 100}" in preview.text.split('id="more-problems">', 1)[1].replace(".", "")


def test_another_account_cannot_import_someone_elses_checked_file(server: BackendServer) -> None:
    add_account(server, "petugas-lain", "kata-sandi-lain-1")
    mine = server.staff_browser(*ADMIN)
    preview = check(server, mine, b"member_id;name;status;expires_on\n19400001;Siti;active;\n")
    theirs = server.staff_browser("petugas-lain", "kata-sandi-lain-1")
    page = theirs.get(f"{server.base_url}/staff/members", timeout=10).text
    answer = theirs.post(
        f"{server.base_url}/staff/members/import",
        data={"csrf": hidden(page, "csrf"), "upload": hidden(preview.text, "upload")},
        timeout=60,
    )
    assert answer.status_code == 400
    found = theirs.get(f"{server.base_url}/staff/members?q=19400001", timeout=10).text
    assert "/staff/members/19400001" not in found
