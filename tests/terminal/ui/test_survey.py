"""The satisfaction survey (SKM) in the real window, by touch, in both languages at the three
sizes: offered on the credential screen, nine elements in the regulation's words, skip and
finish, the answers reach the backend through the outbox without the member number, and the
same patron is not asked again."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backend_server import BackendServer

from .conftest import ARTIFACTS, SIZES, Harness, settings_for

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "survey"
ANSWERS = {"purpose": "membaca", "occupation": "mahasiswa", "education": "s1"}
# The score tapped for u1..u9 (None: "Lewati"/"Skip").
SCORES = [4, 3, None, 4, 2, 3, 4, 1, 3]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendServer]:
    with BackendServer(tmp_path_factory.mktemp("survey-backend")) as running:
        yield running


def to_credentials(kiosk: Harness) -> Any:
    """A member's visit with internet: keypad, guestbook, birth date, the credential."""
    kiosk.type_member("19000123")
    guestbook = kiosk.wait_screen("guestbook")
    for field, choice in ANSWERS.items():
        kiosk.tap(kiosk.chip(field, choice))
    kiosk.tap(guestbook.ids.submit)
    kiosk.type_birth_date("17082004")
    return kiosk.wait_screen("credentials")


def answer_button(screen: Any, score: int) -> Any:
    return next(b for b in screen.ids.answers.children if b.score == score)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_survey_by_touch_reaches_the_backend_once_per_patron(
    server: BackendServer,
    start_kiosk: Callable[..., Harness],
    tmp_path: Path,
    size: str,
    language: str,
) -> None:
    settings = settings_for(server, tmp_path / "kiosk", kiosk={"language": language})
    kiosk = start_kiosk(settings, size=SIZES[size])
    credentials = to_credentials(kiosk)
    offer = credentials.ids.survey_offer
    assert offer.text == kiosk.tr("skm.offer") and not offer.disabled
    kiosk.screenshot(SHOTS / f"{size}-{language}-credentials.png")
    kiosk.tap(offer)
    survey = kiosk.wait_screen("survey")
    assert kiosk.app.flow.view.credential is None  # the password is gone from memory
    for n, score in enumerate(SCORES, start=1):
        element = f"u{n}"
        kiosk.wait_for(lambda e=element: survey.element == e, what=f"element {element}")  # type: ignore[misc]
        assert kiosk.tr(f"skm.q.{element}") in kiosk.texts()
        words = [kiosk.tr(f"skm.a.{element}.{s}") for s in (1, 2, 3, 4)]
        assert [answer_button(survey, s).text for s in (1, 2, 3, 4)] == words
        if n == 1:
            kiosk.screenshot(SHOTS / f"{size}-{language}-question.png")
        kiosk.tap(answer_button(survey, score) if score else survey.ids.skip)
    kiosk.wait_for(lambda: survey.done, what="the thank-you page")
    assert kiosk.tr("skm.thanks.body") in kiosk.texts()
    kiosk.screenshot(SHOTS / f"{size}-{language}-thanks.png")
    kiosk.tap(survey.ids.stop)
    kiosk.wait_screen("welcome")
    outbox = kiosk.app.services.outbox
    kiosk.wait_for(lambda: outbox.pending_count() == 0, timeout=30, what="survey sent")
    with sqlite3.connect(server.database_path) as db:
        row = db.execute(
            "SELECT u1, u2, u3, u4, u5, u6, u7, u8, u9, occupation, education, gender "
            "FROM satisfaction ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert list(row[:9]) == SCORES and row[9:] == ("mahasiswa", "s1", None)
    # The same member again: not asked a second time within [skm] ask_every_days.
    to_credentials(kiosk)
    assert not kiosk.app.survey_offer and credentials.ids.survey_offer.disabled
