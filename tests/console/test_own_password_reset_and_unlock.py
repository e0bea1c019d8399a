"""Looking after accounts in the console: one's own password, an admin's reset and unlock,
each ending the sessions it should and written to the audit log."""

from __future__ import annotations

import requests
from support.backend_server import BackendServer

from .conftest import ADMIN, add_account


def form_token(server: BackendServer, browser: requests.Session, path: str) -> str:
    page = browser.get(f"{server.base_url}{path}", timeout=10).text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def signed_in(server: BackendServer, browser: requests.Session) -> bool:
    answer = browser.get(f"{server.base_url}/staff/", allow_redirects=False, timeout=10)
    return answer.status_code == 200


def try_sign_in(server: BackendServer, username: str, password: str) -> bool:
    browser = requests.Session()
    form = browser.get(f"{server.base_url}/staff/login", timeout=10).text
    token = form.split('name="login_token" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(
        f"{server.base_url}/staff/login",
        data={"username": username, "password": password, "login_token": token},
        timeout=10,
    )
    return answer.url.endswith("/staff/")


def audit_text(server: BackendServer) -> str:
    admin = server.staff_browser(*ADMIN)
    return admin.get(f"{server.base_url}/staff/audit", timeout=10).text


def test_changing_ones_own_password_ends_the_other_sessions_not_this_one(
    console_server: BackendServer,
) -> None:
    add_account(console_server, "ganti-sendiri", "sandi-lama-panjang-1")
    here = console_server.staff_browser("ganti-sendiri", "sandi-lama-panjang-1")
    elsewhere = console_server.staff_browser("ganti-sendiri", "sandi-lama-panjang-1")
    url = f"{console_server.base_url}/staff/password"
    csrf = form_token(console_server, here, "/staff/password")
    wrong = here.post(
        url,
        data={
            "csrf": csrf,
            "current": "bukan-ini-123",
            "new": "sandi-baru-panjang-2",
            "again": "sandi-baru-panjang-2",
        },
        timeout=10,
    )
    assert wrong.status_code == 400 and "Kata sandi sekarang salah" in wrong.text
    changed = here.post(
        url,
        data={
            "csrf": csrf,
            "current": "sandi-lama-panjang-1",
            "new": "sandi-baru-panjang-2",
            "again": "sandi-baru-panjang-2",
        },
        timeout=10,
    )
    assert changed.status_code == 200 and "Kata sandi diganti" in changed.text
    assert signed_in(console_server, here) and not signed_in(console_server, elsewhere)
    assert not try_sign_in(console_server, "ganti-sendiri", "sandi-lama-panjang-1")
    assert try_sign_in(console_server, "ganti-sendiri", "sandi-baru-panjang-2")
    assert "ganti kata sandi sendiri" in audit_text(console_server)


def test_an_admin_sets_a_new_password_and_the_old_sessions_end(
    console_server: BackendServer,
) -> None:
    add_account(console_server, "lupa-sandi", "sandi-yang-dilupa-1")
    their = console_server.staff_browser("lupa-sandi", "sandi-yang-dilupa-1")
    admin = console_server.staff_browser(*ADMIN)
    csrf = form_token(console_server, admin, "/staff/accounts")
    short = admin.post(
        f"{console_server.base_url}/staff/accounts/reset",
        data={"csrf": csrf, "username": "lupa-sandi", "password": "pendek"},
        timeout=10,
    )
    assert short.status_code == 400 and "paling sedikit 10 karakter" in short.text
    reset = admin.post(
        f"{console_server.base_url}/staff/accounts/reset",
        data={"csrf": csrf, "username": "lupa-sandi", "password": "sandi-dari-admin-9"},
        timeout=10,
    )
    assert reset.status_code == 200 and "Kata sandi diatur" in reset.text
    assert not signed_in(console_server, their)
    assert try_sign_in(console_server, "lupa-sandi", "sandi-dari-admin-9")
    assert "atur kata sandi akun" in audit_text(console_server)


def test_an_account_held_back_shows_so_and_an_admin_unlocks_it(
    console_server: BackendServer,
) -> None:
    add_account(console_server, "tertahan", "sandi-tertahan-12")
    for n in range(5):
        assert not try_sign_in(console_server, "tertahan", f"salah-{n}-xxxxx")
    assert not try_sign_in(console_server, "tertahan", "sandi-tertahan-12")
    admin = console_server.staff_browser(*ADMIN)
    page = admin.get(f"{console_server.base_url}/staff/accounts", timeout=10).text
    row = page.split("<td>tertahan</td>", 1)[1].split("</tr>", 1)[0]
    assert "ditahan" in row
    answer = admin.post(
        f"{console_server.base_url}/staff/accounts/unlock",
        data={"csrf": form_token(console_server, admin, "/staff/accounts"), "username": "tertahan"},
        timeout=10,
    )
    assert answer.status_code == 200 and "Akun dibuka" in answer.text
    assert try_sign_in(console_server, "tertahan", "sandi-tertahan-12")
    assert "buka akun" in audit_text(console_server)


def test_the_login_brings_back_the_page_with_its_query_or_the_form_page(
    console_server: BackendServer,
) -> None:
    base = console_server.base_url
    anonymous = requests.Session()
    page = anonymous.get(f"{base}/staff/visits?member=19000123", timeout=10)
    token = page.text.split('name="login_token" value="', 1)[1].split('"', 1)[0]
    next_value = page.text.split('name="next" value="', 1)[1].split('"', 1)[0]
    assert next_value == "/staff/visits?member=19000123"
    signed = anonymous.post(
        f"{base}/staff/login",
        data={"username": ADMIN[0], "password": ADMIN[1], "login_token": token, "next": next_value},
        timeout=10,
    )
    assert signed.url == f"{base}/staff/visits?member=19000123"
    # A form sent after the session ended: back to the page it was on, not a GET of its POST.
    late = requests.post(
        f"{base}/staff/credentials/revoke",
        data={"csrf": "x", "username": "p123"},
        headers={"Referer": f"{base}/staff/credentials"},
        allow_redirects=False,
        timeout=10,
    )
    assert late.status_code == 303 and late.headers["location"].endswith(
        "/staff/login?next=/staff/credentials"
    )


def test_an_unknown_console_path_gets_the_consoles_page_not_json(
    console_server: BackendServer,
) -> None:
    for method in ("get", "post"):
        answer = requests.request(method, f"{console_server.base_url}/staff/tidak-ada", timeout=10)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
        assert "<html" in answer.text
