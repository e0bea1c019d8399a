"""The staff console in Debian's Chromium against the real backend: sign-in, lockout, every
page in both languages at both sizes (screenshots), CSV preview, revoke, kiosk registration,
exports against the visits made here, CSRF, roles, and nothing loaded from another host."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pytest
import requests
from support.backend_server import JAKARTA, BackendServer, checkin_body

from .conftest import ADMIN, ARTIFACTS, STAFF, add_account


class SourceAddress(requests.adapters.HTTPAdapter):
    """Connections from another loopback address: a second computer at the library."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


SIZES = {"1366x768": (1366, 768), "768x1024": (768, 1024)}
PAGES = ["", "reports", "visits", "members", "credentials", "kiosks", "accounts", "audit"]


@pytest.fixture
def context(browser: Any, console_server: BackendServer) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=console_server.base_url
    )
    # Revoke and disable ask first (a confirm dialog): the tests say yes unless they say no.
    ctx.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))
    yield ctx
    ctx.close()


def sign_in(ctx: Any, user: tuple[str, str] = ADMIN) -> Any:
    page = ctx.new_page()
    page.goto("/staff/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    return page


def visit_at(
    server: BackendServer, day: dt.date, hour: int, purpose: str, card: str = "19000123"
) -> None:
    moment = dt.datetime.combine(day, dt.time(hour, 15), tzinfo=JAKARTA)
    body = checkin_body(
        card,
        want_internet=False,
        answers={"purpose": purpose, "occupation": "pelajar"},
        occurred_at=moment.isoformat(),
    )
    response = server.post("/visits", json=body)
    assert response.status_code == 201, response.text


def test_every_page_in_both_languages_at_both_sizes_loads_only_from_the_backend(
    browser: Any, console_server: BackendServer
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    visit_at(console_server, dt.datetime.now(JAKARTA).date(), 9, "membaca")
    hosts: set[str] = set()
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=console_server.base_url
    )
    try:
        ctx.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page = sign_in(ctx)
        for language in ("id", "en"):
            page.goto(f"/staff/language/{language}?next=/staff/")
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                for name in PAGES:
                    response = page.goto(f"/staff/{name}")
                    assert response is not None and response.status == 200, name
                    assert page.locator("html").get_attribute("lang") == language
                    page.screenshot(
                        path=str(ARTIFACTS / f"{name or 'today'}-{language}-{size}.png"),
                        full_page=True,
                    )
        page.goto("/staff/language/id?next=/staff/")
        assert page.locator("nav.main").inner_text().split()[:3] == ["Hari", "ini", "Laporan"]
    finally:
        ctx.close()
    assert hosts == {urlsplit(console_server.base_url).netloc}


def test_session_cookie_is_httponly_strict_and_csrf_is_required(
    context: Any, console_server: BackendServer
) -> None:
    sign_in(context)
    cookie = next(c for c in context.cookies() if c["name"] == "kiosk_staff")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on loopback; Secure over HTTPS
    assert cookie["expires"] == -1  # ends with the browser (a shared desk PC)
    refused = context.request.post(
        "/staff/accounts/add", form={"username": "mallory", "password": "x" * 12, "role": "admin"}
    )
    assert refused.status == 403
    forged = context.request.post(
        "/staff/accounts/add",
        form={"csrf": "not-the-token", "username": "mallory", "password": "x" * 12},
    )
    assert forged.status == 403
    assert "mallory" not in context.request.get("/staff/accounts").text()


def who_is_signed_in(ctx: Any) -> str:
    page = ctx.new_page()
    page.goto("/staff/")
    who = page.locator(".who").inner_text() if page.locator(".who").count() else "nobody"
    page.close()
    return who


def test_a_login_form_posted_from_another_site_does_not_sign_the_browser_in(
    context: Any, console_server: BackendServer
) -> None:
    add_account(console_server, "penyusup", "sandi-penyusup-1")
    attack = f"""<form id="f" method="post" action="{console_server.base_url}/staff/login">
      <input name="username" value="penyusup"><input name="password" value="sandi-penyusup-1">
      </form><script>document.getElementById("f").submit()</script>"""
    page = context.new_page()
    page.route(
        "http://pustaka-palsu.test/**",
        lambda route: route.fulfill(body=attack, content_type="text/html"),
    )
    with page.expect_navigation(url=f"{console_server.base_url}/**"):
        page.goto("http://pustaka-palsu.test/hadiah")
    assert "dikirim dari situs lain" in page.locator("main").inner_text()
    assert "penyusup" not in who_is_signed_in(context)
    sign_in(context, STAFF)  # the librarian signs in; the same attack while signed in
    with page.expect_navigation(url=f"{console_server.base_url}/**"):
        page.goto("http://pustaka-palsu.test/hadiah")
    assert who_is_signed_in(context).startswith(STAFF[0])


def test_signing_in_as_someone_else_ends_the_browsers_first_session(
    context: Any, console_server: BackendServer
) -> None:
    second_tab = context.new_page()
    second_tab.goto("/staff/login")  # opened before anyone signed in
    sign_in(context, STAFF)
    first = next(c["value"] for c in context.cookies() if c["name"] == "kiosk_staff")
    second_tab.fill("#username", ADMIN[0])
    second_tab.fill("#password", ADMIN[1])
    with second_tab.expect_navigation():
        second_tab.click("button[type=submit]")
    assert who_is_signed_in(context).startswith(ADMIN[0])
    replayed = requests.get(
        f"{console_server.base_url}/staff/",
        cookies={"kiosk_staff": first},
        allow_redirects=False,
        timeout=10,
    )
    assert replayed.status_code == 303 and "/staff/login" in replayed.headers["location"]


def test_wrong_password_unknown_name_and_held_back_name_get_one_answer(
    context: Any, console_server: BackendServer
) -> None:
    add_account(console_server, "lupa", "sandi-yang-benar-1")
    page = context.new_page()
    page.goto("/staff/login")
    answers = []
    tries = [("lupa", f"salah-{n}") for n in range(5)]
    tries += [("lupa", "sandi-yang-benar-1"), ("tidak-ada-nama-ini", "salah-0")]
    for name, password in tries:
        page.fill("#username", name)
        page.fill("#password", password)
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        assert "/staff/login" in page.url
        answers.append((navigation.value.status, page.locator(".error-summary li").inner_text()))
    assert len(set(answers)) == 1 and answers[0][0] == 401, answers
    assert "15 menit" in answers[0][1]
    page.screenshot(path=str(ARTIFACTS / "login-refused-id-1366x768.png"), full_page=True)
    logs = "".join(p.read_text() for p in (console_server.dir / "log").glob("*.log"))
    assert "held back for 15 min after too many wrong passwords" in logs
    assert "tidak-ada-nama-ini" not in logs
    # The account itself is not locked: from another address it signs in.
    other = requests.Session()
    other.mount("http://", SourceAddress("127.0.0.2"))
    form = other.get(f"{console_server.base_url}/staff/login", timeout=10).text
    token = form.split('name="login_token" value="', 1)[1].split('"', 1)[0]
    signed = other.post(
        f"{console_server.base_url}/staff/login",
        data={"username": "lupa", "password": "sandi-yang-benar-1", "login_token": token},
        timeout=10,
    )
    assert signed.url.endswith("/staff/"), signed.text[:300]


def test_nothing_without_a_session_and_tokens_and_sessions_do_not_mix(
    context: Any, console_server: BackendServer
) -> None:
    anonymous = requests.get(
        f"{console_server.base_url}/staff/reports", allow_redirects=False, timeout=10
    )
    assert anonymous.status_code == 303 and "/staff/login" in anonymous.headers["location"]
    with_token = requests.get(
        f"{console_server.base_url}/staff/",
        headers=console_server.headers,
        allow_redirects=False,
        timeout=10,
    )
    assert with_token.status_code == 303
    sign_in(context)
    api = context.request.get(f"{console_server.api_url}/stats/today")
    assert api.status == 401


def test_staff_role_sees_desk_pages_not_admin_pages(context: Any) -> None:
    page = sign_in(context, STAFF)
    assert page.locator("nav.main a[href='/staff/kiosks']").count() == 0
    assert page.goto("/staff/kiosks").status == 403
    assert page.goto("/staff/audit").status == 403
    assert page.goto("/staff/members").status == 200


def test_member_csv_upload_shows_bad_rows_before_importing(
    context: Any, console_server: BackendServer, tmp_path: Any
) -> None:
    csv_file = tmp_path / "anggota.csv"
    csv_file.write_text(
        "member_id;name;status;expires_on\n"
        "19007001;Siti Aminah;active;31/12/2027\n"
        "19007002;;active;2027-01-01\n"
        "19007003;Budi;aktif;2027-01-01\n"
        "19007004;Rina;active;2027-02-30\n",
        encoding="utf-8",
    )
    page = sign_in(context)
    page.goto("/staff/members")
    page.set_input_files("#file", str(csv_file))
    with page.expect_navigation():
        page.click("form[action='/staff/members/upload'] button")
    page.screenshot(path=str(ARTIFACTS / "members-preview-id-1366x768.png"), full_page=True)
    rows = page.locator("#preview tr.bad")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["3", "4", "5"]
    assert "nama kosong" in rows.nth(0).inner_text()  # the page's language
    assert "aktif': seharusnya active, expired atau blocked" in rows.nth(1).inner_text()
    # nothing imported by the preview
    assert "Siti Aminah" not in context.request.get("/staff/members?q=19007001").text()
    page.check("#skip_invalid")
    with page.expect_navigation():
        page.click("form[action='/staff/members/import'] button")
    assert "1 ditambah" in page.locator("#import-result").inner_text()
    page.goto("/staff/members?q=Siti")
    assert "19007001" in page.content()
    assert (
        "members.import" in context.request.get("/staff/audit").text()
        or "impor anggota" in context.request.get("/staff/audit").text()
    )


def test_a_csv_header_with_braces_is_shown_as_written_not_evaluated(
    console_server: BackendServer,
) -> None:
    browser = console_server.staff_browser(*ADMIN)
    page = browser.get(f"{console_server.base_url}/staff/members", timeout=10).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    for header in ("{x}", "{until.__class__.__mro__}"):
        answer = browser.post(
            f"{console_server.base_url}/staff/members/upload",
            data={"csrf": csrf},
            files={"file": ("anggota.csv", f"{header};name\n1;Siti\n".encode())},
            timeout=10,
        )
        assert answer.status_code == 400, answer.text[:300]
        summary = answer.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
        assert header in summary and "&lt;class" not in summary, summary


def test_every_answer_says_nosniff_and_its_referrer_policy(console_server: BackendServer) -> None:
    base = console_server.base_url
    for url in (
        f"{base}/staff/login",
        f"{base}/staff/reports",  # a redirect to the login
        f"{base}/staff/static/console.css",
        f"{base}/api/v1/health",
        f"{base}/api/v1/stats/today",  # 401
    ):
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", url
        assert answer.headers.get("Referrer-Policy") == "same-origin", url


def test_revoke_asks_first_and_no_keeps_the_credential(
    browser: Any, console_server: BackendServer
) -> None:
    issued = console_server.post("/checkins", json=checkin_body("19000126")).json()["credential"]
    ctx = browser.new_context(base_url=console_server.base_url)
    try:
        page = sign_in(ctx)
        page.goto("/staff/credentials")
        asked: list[str] = []

        def say_no(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", say_no)
        page.click(f"button[aria-label='Cabut {issued['username']}']")
        assert asked == [f"Cabut akun internet {issued['username']}? Wi-Fi-nya langsung berhenti."]
        page.goto("/staff/credentials")  # nothing was sent: it is still there
        assert issued["username"] in page.locator("table").inner_text()
    finally:
        ctx.close()


def test_revoke_a_credential_and_issue_one_at_the_desk(
    context: Any, console_server: BackendServer
) -> None:
    issued = console_server.post("/checkins", json=checkin_body("19000123")).json()["credential"]
    page = sign_in(context)
    page.goto("/staff/credentials")
    with page.expect_navigation():
        page.click(f"button[aria-label='Cabut {issued['username']}']")
    assert "dicabut" in page.locator(".notice").inner_text()
    assert issued["username"] not in page.locator("table").inner_text()
    assert (
        console_server.post("/members/lookup", json={"card": "19000123"}).json()["has_credential"]
        is False
    )
    page.fill("#member_id", "19000123")
    with page.expect_navigation():
        page.click("form[action='/staff/credentials/issue'] button")
    username = page.locator("#slip-username").inner_text()
    assert username and username != issued["username"]
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=str(ARTIFACTS / "slip-id-1366x768.png"), full_page=True)
    # The slip is a page of its own: reloading it shows it again, it issues nothing.
    counted = console_server.get("stats/today").json()
    with page.expect_navigation():
        page.reload()
    assert page.locator("#slip-username").inner_text() == username
    assert console_server.get("stats/today").json() == counted
    again = console_server.post("/checkins", json=checkin_body("19000123")).json()["credential"]
    assert again["username"] == username and again["reused"] is True


def test_register_a_kiosk_its_token_works_once_shown_and_revoke_ends_it(
    context: Any, console_server: BackendServer
) -> None:
    page = sign_in(context)
    page.goto("/staff/kiosks")
    page.fill("#kiosk_id", "kiosk-lantai-2")
    page.fill("#name", "Kios lantai 2")
    with page.expect_navigation():
        page.click("form[action='/staff/kiosks/register'] button")
    token = page.locator("#new-token").inner_text().strip()
    assert len(token) >= 40
    api = f"{console_server.api_url}/stats/today"
    assert (
        requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        == 200
    )
    assert (
        requests.get(api, headers=console_server.headers, timeout=10).status_code == 200
    )  # config token
    own = {"Authorization": f"Bearer {token}"}
    beat = {"kiosk_id": "kiosk-lantai-2", "outbox_depth": 0, "dead_letters": 0}
    assert console_server.post("/kiosks/heartbeat", json=beat, headers=own).status_code == 200
    for path, body in (
        ("/kiosks/heartbeat", {**beat, "kiosk_id": "kiosk-pintu-utama"}),
        ("/visits", checkin_body(kiosk_id="kiosk-pintu-utama")),
        ("/checkins", checkin_body(kiosk_id="kiosk-pintu-utama")),
    ):
        posed = console_server.post(path, json=body, headers=own)
        assert posed.status_code == 403 and "kiosk-lantai-2" in posed.text, (path, posed.text)
    page.goto("/staff/kiosks")
    assert token not in page.content()  # shown once
    with page.expect_navigation():
        page.click("form[action='/staff/kiosks/revoke'] button")
    deadline = time.monotonic() + 10
    while (
        requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        != 401
    ):
        assert time.monotonic() < deadline, "a revoked token still works after 10 s"
        time.sleep(0.5)  # the token cache is refreshed every 5 s: poll it


def test_heartbeat_shows_on_today_with_an_alert_for_dead_letters(
    context: Any, console_server: BackendServer
) -> None:
    beat = {
        "kiosk_id": "kiosk-pintu-utama",
        "outbox_depth": 3,
        "dead_letters": 2,
        "camera": "ok",
        "version": "0.1.0",
    }
    assert console_server.post("/kiosks/heartbeat", json=beat).status_code == 200
    page = sign_in(context)
    assert "kiosk-pintu-utama" in page.locator("table").first.inner_text()
    assert "2 kunjungan yang gagal terkirim" in page.locator(".alerts").inner_text()
    silent_camera = {**beat, "kiosk_id": "kiosk-tanpa-kamera", "dead_letters": 0}
    silent_camera["camera"] = "no_camera"
    assert console_server.post("/kiosks/heartbeat", json=silent_camera).status_code == 200
    page.reload()
    alerts = page.locator(".alerts").inner_text()
    assert "kiosk-tanpa-kamera: tidak ada" in alerts and "no_camera" not in alerts


def test_exports_count_the_visits_made_here(context: Any, console_server: BackendServer) -> None:
    first = dt.date(2025, 3, 1)
    plan = {
        first: ["internet", "internet", "membaca"],
        first + dt.timedelta(days=2): ["penelitian"],
        first + dt.timedelta(days=4): ["lainnya", "internet"],
    }
    for day, purposes in plan.items():
        for n, purpose in enumerate(purposes):
            visit_at(console_server, day, 8 + n, purpose)
    sign_in(context)
    query = "from=2025-03-01&to=2025-03-05"
    text = context.request.get(f"/staff/reports/visits.csv?{query}").text().lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert lines[0] == "Laporan Pengunjung Perpustakaan Periode 1 Maret 2025 s.d. 5 Maret 2025"
    assert lines[3:11] == [
        "Pengunjung per hari",
        "Tanggal,Kunjungan anggota,Tamu,Rombongan,Orang dalam rombongan,Jumlah pengunjung",
        "2025-03-01,3,0,0,0,3",
        "2025-03-02,0,0,0,0,0",
        "2025-03-03,1,0,0,0,1",
        "2025-03-04,0,0,0,0,0",
        "2025-03-05,2,0,0,0,2",
        "Jumlah,6,0,0,0,6",
    ]
    assert lines[12:21] == [
        "Pengunjung menurut tujuan kunjungan",
        "Tujuan kunjungan,Kunjungan anggota,Tamu,Orang dalam rombongan,Jumlah",
        "Internet,3,0,0,3",
        "Membaca,1,0,0,1",
        "Meminjam / mengembalikan,0,0,0,0",
        "Penelitian,1,0,0,1",
        "Lainnya,1,0,0,1",
        "Tidak diisi / tidak ditanyakan,0,0,0,0",
        "Jumlah,6,0,0,6",
    ]
    data = context.request.get(f"/staff/reports/visits.xlsx?{query}").body()
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = [list(row) for row in book.worksheets[1].iter_rows(min_row=5, values_only=True)]
    assert rows[1] == ["Internet", 3, 0, 0, 3] and rows[-1] == ["Jumlah", 6, 0, 0, 6]
    # days, purpose, occupation, education, gender (guests'), internet
    assert len(book.worksheets) == 6
    occupation = [list(r) for r in book.worksheets[2].iter_rows(min_row=5, values_only=True)]
    assert occupation[1] == ["Pelajar", 6, 0, 0, 6]  # all six were 'pelajar'
    bad = context.request.get("/staff/reports/visits.csv?from=2025-03-05&to=2025-03-01")
    assert bad.status == 400
    for name, size in (("Tamu Umum", 1), ("SMA 1 Pangkalpinang", 12)):
        guest = {
            "client_ref": str(uuid.uuid4()),
            "name": name,
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": dt.datetime.combine(first, dt.time(10), tzinfo=JAKARTA).isoformat(),
            "group_size": size,
            "answers": {"purpose": "membaca"},
        }
        answer = console_server.post("/guest-visits", json=guest)
        assert answer.status_code == 201, answer.text
    page = context.new_page()
    page.goto("/staff/reports?period=custom&start=2025-03-01&end=2025-03-05")
    assert page.locator("#report-total").inner_text() == "6"  # members' visits
    assert page.locator("#report-guests").inner_text() == "1"
    assert page.locator("#report-groups").inner_text() == "1"
    assert page.locator("#report-visitors").inner_text() == "19"  # 6 + 1 + 12 together
    assert "12 orang" in page.content()
    # The Dinas's report counts them too, per day, apart and together.
    text = context.request.get(f"/staff/reports/visits.csv?{query}").text().lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert lines[5] == "2025-03-01,3,1,1,12,16"
    assert lines[10] == "Jumlah,6,1,1,12,19"
    assert "Membaca,1,1,12,14" in lines  # the guest and the group came to read
    context.request.get("/staff/language/en")  # as the language switch in the page does
    english = context.request.get(f"/staff/reports/visits.xlsx?{query}").body()
    sheet = openpyxl.load_workbook(io.BytesIO(english)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert rows[0] == [
        "Date", "Members' visits", "Guests", "Groups", "People in groups", "All visitors"
    ]  # fmt: skip
    assert rows[-1] == ["Total", 6, 1, 1, 12, 19]
