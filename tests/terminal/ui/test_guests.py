"""Guests and groups (issue 16) in the real window: "Bukan anggota?" on Welcome, the name
keyboard, the guest fields, vouchers and the outbox, against the real backend on loopback."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "guests"
GUEST_ANSWERS = {
    "purpose": "membaca",
    "occupation": "pelajar",
    "education": "sma",
    "gender": "perempuan",
}


def open_guest_form(kiosk: Harness, group: bool = False) -> Any:
    """ "Bukan anggota?" on Welcome: the visitor's form; a group taps "Rombongan" on it."""
    welcome = kiosk.wait_screen("welcome")
    kiosk.tap(welcome.ids.not_member)
    screen = kiosk.wait_screen("guest")
    if group:
        kiosk.tap(alone_or_group(kiosk, "group"))
    return screen


def alone_or_group(kiosk: Harness, which: str) -> Any:
    """The form's "Sendiri" ("alone") or "Rombongan" ("group") chip."""
    chips = kiosk.app.screens["guest"].who.ids.alone_or_group
    return next(c for c in chips.children if c.key == which)


def type_on_keyboard(kiosk: Harness, text: str) -> None:
    """Tap each key as a patron would, with shift where the entry's case differs."""
    keyboard = kiosk.app.screens["guest"].who.ids.keyboard
    for ch in text:
        if ch == " ":
            kiosk.tap(keyboard.keys["space"])
            continue
        entry = kiosk.app.flow.view.guest
        if ch.isalpha() and ch.isupper() != entry.shift:
            kiosk.tap(keyboard.keys["shift"])
        kiosk.tap(keyboard.keys[ch.lower()])


def guest_chip(kiosk: Harness, field: str, choice: str) -> Any:
    row = kiosk.app.screens["guest"]._rows[field]
    return next(c for c in row.ids.chips.children if c.key == choice)


def sign_as_guest(
    kiosk: Harness, name: str, institution: str, shots: Callable[[str], None] | None = None
) -> Any:
    screen = open_guest_form(kiosk)
    assert screen.ids.submit.disabled
    assert kiosk.tr("guest.name") in kiosk.texts()
    assert kiosk.tr("guest.missing", fields=kiosk.tr("guest.name")) in kiosk.texts()
    if shots:
        shots("guest-empty")  # shift on: a name starts with a capital
    type_on_keyboard(kiosk, name)
    kiosk.tap(screen.who.ids.institution_box.ids.box)
    type_on_keyboard(kiosk, institution)
    if shots:
        shots("guest-who")
    kiosk.tap(screen.ids.submit)  # Lanjut
    assert screen.page == "answers" and screen.ids.submit.disabled
    assert kiosk.tr("guest.missing", fields="") in kiosk.texts()
    for field, choice in GUEST_ANSWERS.items():
        kiosk.tap(guest_chip(kiosk, field, choice))
    if shots:
        shots("guest-answers")
    assert not screen.ids.submit.disabled
    return screen


def guest_rows(backend: BackendServer) -> list[tuple[Any, ...]]:
    with sqlite3.connect(backend.database_path) as db:
        return db.execute(
            "SELECT name, institution, group_size, username FROM guest_visits ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["id", "en"])
def test_a_guest_types_a_name_and_signs_the_guestbook(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
    language: str,
) -> None:
    kiosk = start_kiosk(
        settings_for(backend_server, tmp_path / "kiosk", kiosk={"language": language}),
        size=SIZES[size],
    )

    def shot(name: str) -> None:
        kiosk.screenshot(SHOTS / f"{size}-{language}-{name}.png")

    kiosk.wait_screen("welcome")
    shot("welcome")
    screen = sign_as_guest(kiosk, "Rina Maharani", "SMA Negeri 1 Pangkalpinang", shot)
    assert not screen.who.ids.keyboard.keys["space"].disabled
    kiosk.tap(screen.ids.submit)
    kiosk.wait_screen("thanks")
    assert kiosk.tr("thanks.guest_desk") in kiosk.texts()  # [guests] internet = "none"
    shot("thanks")
    assert guest_rows(backend_server) == [("Rina Maharani", "SMA Negeri 1 Pangkalpinang", 1, None)]


def step_to(kiosk: Harness, stepper: Any, count: int) -> None:
    """Tap -10/-1/+1/+10 until the stepper shows `count`."""
    while stepper.count != count:
        gap = count - stepper.count
        step = (10 if gap >= 10 else 1) if gap > 0 else (-10 if gap <= -10 else -1)
        kiosk.tap(stepper.buttons[step])


GROUP_LAYOUTS = [("landscape", "id"), ("portrait", "en"), ("small", "en")]


@pytest.mark.parametrize(("size", "language"), GROUP_LAYOUTS)
def test_a_group_leader_signs_for_the_whole_group(
    backend_server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
    language: str,
) -> None:
    kiosk = start_kiosk(
        settings_for(backend_server, tmp_path / "kiosk", kiosk={"language": language}),
        size=SIZES[size],
    )
    screen = open_guest_form(kiosk)
    assert (
        kiosk.tr("guest.title") in kiosk.texts() and alone_or_group(kiosk, "alone").state == "down"
    )
    type_on_keyboard(kiosk, "Bu Rina")  # typed before the leader sees it is a group's form
    kiosk.tap(alone_or_group(kiosk, "group"))
    assert (
        kiosk.tr("guest.title_group") in kiosk.texts() and kiosk.tr("guest.leader") in kiosk.texts()
    )
    assert screen.who.ids.name_box.value == "Bu Rina"  # the switch keeps what was typed
    kiosk.screenshot(SHOTS / f"{size}-{language}-group-who.png")
    assert screen.ids.submit.disabled  # a group needs its institution
    needed = f"{kiosk.tr('guest.institution')}, {kiosk.tr('guest.people')}"
    assert kiosk.tr("guest.missing", fields=needed) in kiosk.texts()
    kiosk.tap(screen.who.ids.institution_box.ids.box)
    type_on_keyboard(kiosk, "SD Negeri 5 Sungailiat")
    kiosk.tap(screen.who.ids.size_box.ids.box)  # the group's size, on the digit row
    type_on_keyboard(kiosk, "31")
    kiosk.tap(screen.ids.submit)  # Lanjut
    assert list(screen._rows) == ["purpose"]  # a group's purpose, not one person's answers
    kiosk.tap(guest_chip(kiosk, "purpose", "membaca"))
    kiosk.screenshot(SHOTS / f"{size}-{language}-group-answers.png")
    kiosk.tap(screen.ids.submit)
    kiosk.wait_screen("thanks")
    assert guest_rows(backend_server) == [("Bu Rina", "SD Negeri 5 Sungailiat", 31, None)]


def test_a_group_counts_its_people_by_gender_when_configured(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server, tmp_path / "kiosk", guests={"group_gender_counts": True}
    )
    kiosk = start_kiosk(settings, size=SIZES["portrait"])
    screen = open_guest_form(kiosk, group=True)
    type_on_keyboard(kiosk, "Pak Budi")
    kiosk.tap(screen.who.ids.institution_box.ids.box)
    type_on_keyboard(kiosk, "SMP Negeri 2")
    kiosk.tap(screen.ids.submit)
    assert set(screen.steppers) == {"laki_laki", "perempuan"}
    kiosk.tap(guest_chip(kiosk, "purpose", "membaca"))
    assert screen.ids.submit.disabled  # nobody counted yet
    step_to(kiosk, screen.steppers["laki_laki"], 12)
    step_to(kiosk, screen.steppers["perempuan"], 14)
    assert kiosk.tr("guest.total", count=26) in kiosk.texts()
    kiosk.screenshot(SHOTS / "portrait-id-group-by-gender.png")
    kiosk.tap(screen.ids.submit)
    kiosk.wait_screen("thanks")
    assert guest_rows(backend_server) == [("Pak Budi", "SMP Negeri 2", 26, None)]
    with sqlite3.connect(backend_server.database_path) as db:
        (answers,) = db.execute("SELECT answers FROM guest_visits").fetchone()
    assert '"count_laki_laki": 12' in answers and '"count_perempuan": 14' in answers


def test_a_voucher_is_shown_until_the_days_cap_then_the_kind_notice(
    start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    policy = {"internet": "voucher", "vouchers_per_day": 1, "voucher_hours": 2}
    with BackendServer(tmp_path / "backend", guests=policy) as backend:
        kiosk = start_kiosk(settings_for(backend, tmp_path / "kiosk", guests=policy))
        screen = sign_as_guest(kiosk, "Rina Maharani", "Pangkalpinang")
        assert screen.answers.ids.internet.opacity == 1
        kiosk.tap(screen.answers.ids.internet.ids.switch)
        assert kiosk.app.flow.view.want_internet
        kiosk.tap(screen.ids.submit)
        credentials = kiosk.wait_screen("credentials")
        kiosk.screenshot(SHOTS / "small-id-voucher.png")
        with sqlite3.connect(backend.database_path) as db:
            row = db.execute("SELECT username, password FROM guest_visits").fetchone()
        shown = ("".join(credentials.username_groups), "".join(credentials.password_groups))
        assert shown == row
        kiosk.tap(kiosk.button(kiosk.tr("common.done")))

        # The second guest today: over the cap of 1, told kindly; the visit is still kept.
        screen = sign_as_guest(kiosk, "Dewi", "Sungailiat")
        kiosk.tap(screen.answers.ids.internet.ids.switch)
        kiosk.tap(screen.ids.submit)
        kiosk.wait_screen("notice")
        assert kiosk.tr("notice.guest_internet_unavailable.title") in kiosk.texts()
        kiosk.screenshot(SHOTS / "small-id-notice-guest-internet.png")
        outbox = kiosk.app.services.outbox
        kiosk.app.services.sender.wake()
        kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="visit sent")
        kiosk.wait_for(lambda: len(guest_rows(backend)) == 2, what="second visit recorded")
        assert guest_rows(backend)[1] == ("Dewi", "Sungailiat", 1, None)


def test_backend_down_keeps_a_guests_visit_and_sends_it_once(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    screen = sign_as_guest(kiosk, "Rina Maharani", "Koba")
    backend_server.stop()
    kiosk.tap(screen.ids.submit)
    kiosk.wait_screen("notice")
    assert kiosk.tr("notice.backend_unreachable.title") in kiosk.texts()
    outbox = kiosk.app.services.outbox
    kiosk.wait_for(lambda: outbox.pending_count() == 1, what="the visit in the outbox")
    (kept,) = outbox.due(now=1e12)
    backend_server.start()
    kiosk.app.services.sender.wake()
    kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="the outbox emptied")
    assert guest_rows(backend_server) == [("Rina Maharani", "Koba", 1, None)]
    outbox.put(kept.body)  # sent again (a lost answer, a restored outbox): a replay
    kiosk.app.services.sender.wake()
    kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="the resend answered")
    assert len(guest_rows(backend_server)) == 1


def test_not_this_librarys_card_offers_the_guest_form(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    kiosk.wait_screen("welcome")
    kiosk.app.run_commands(kiosk.app.flow.card_rejected("9780306406157"))
    kiosk.wait_screen("notice")
    kiosk.tap(kiosk.button(kiosk.tr("welcome.not_member")))
    kiosk.wait_screen("guest")
    assert kiosk.app.flow.view.guest is not None and not kiosk.app.flow.view.guest.group


def test_the_guest_form_warns_before_it_clears_and_then_forgets_the_guest(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    settings = settings_for(
        backend_server,
        tmp_path / "kiosk",
        kiosk={"timeouts": {"guestbook": 3.0, "warning": 2.0}},
    )
    kiosk = start_kiosk(settings)
    screen = open_guest_form(kiosk)
    type_on_keyboard(kiosk, "Rina")
    kiosk.wait_for(lambda: screen.still_there.popup is not None, timeout=5, what="warning")
    kiosk.tap(screen.still_there.popup.ids.keep_going)
    kiosk.pump(0.3)
    assert screen.still_there.popup is None and kiosk.app.manager.current == "guest"
    kiosk.wait_screen("welcome", timeout=6)
    assert screen.still_there.shown == 2
    assert "Rina" not in kiosk.texts()


def test_a_guest_who_switches_to_a_group_and_back_answers_a_guests_questions(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"))
    screen = open_guest_form(kiosk, group=True)
    type_on_keyboard(kiosk, "Rina Maharani")
    kiosk.tap(screen.who.ids.institution_box.ids.box)
    type_on_keyboard(kiosk, "SMA Negeri 1")
    kiosk.tap(screen.who.ids.size_box.ids.box)
    type_on_keyboard(kiosk, "12")
    kiosk.tap(screen.ids.submit)  # Lanjut
    assert list(screen._rows) == ["purpose"] and not screen.steppers  # size: on page 1
    kiosk.tap(guest_chip(kiosk, "purpose", "membaca"))
    kiosk.tap(screen.ids.back)  # Kembali: page 1, to say it is only her
    kiosk.tap(alone_or_group(kiosk, "alone"))
    assert (
        kiosk.tr("guest.title") in kiosk.texts() and kiosk.tr("guest.leader") not in kiosk.texts()
    )
    kiosk.tap(screen.ids.submit)
    assert list(screen._rows) == list(GUEST_ANSWERS) and not screen.steppers
    assert guest_chip(kiosk, "purpose", "membaca").state == "down"  # a guest is asked it too
    for field, choice in GUEST_ANSWERS.items():
        kiosk.tap(guest_chip(kiosk, field, choice))
    kiosk.tap(screen.ids.submit)  # Kirim
    kiosk.wait_screen("thanks")
    assert guest_rows(backend_server) == [("Rina Maharani", "SMA Negeri 1", 1, None)]


def test_switching_language_on_the_guest_form_keeps_what_was_typed(
    backend_server: BackendServer, start_kiosk: Callable[..., Harness], tmp_path: Path
) -> None:
    kiosk = start_kiosk(settings_for(backend_server, tmp_path / "kiosk"), size=SIZES["portrait"])
    screen = open_guest_form(kiosk)
    type_on_keyboard(kiosk, "Siti Nur'aini")
    kiosk.tap(screen.ids.submit)  # Lanjut
    kiosk.tap(guest_chip(kiosk, "purpose", "penelitian"))
    kiosk.tap(kiosk.button("English"))
    assert kiosk.app.language == "en" and screen.page == "answers"
    assert "Purpose of visit" in kiosk.texts() and "Tujuan kunjungan" not in kiosk.texts()
    assert guest_chip(kiosk, "purpose", "penelitian").state == "down"
    kiosk.tap(kiosk.button("Back"))
    assert screen.who.ids.name_box.value == "Siti Nur'aini"
