"""The journey runner without Kivy: a real flow, a real backend, a real outbox; the test's
own thread plays the main thread by running what the runner posts."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.backend_server import BackendServer

from kiosk.config import KioskSettings, Settings, Timeouts
from kiosk.terminal.client import BackendClient
from kiosk.terminal.journey import JourneyRunner
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.services import Services
from kiosk.terminal.session.flow import Flow
from kiosk.terminal.session.patron_session import Notice, State

ANSWERS = {"purpose": "internet", "occupation": "pelajar", "education": "sma"}


class MainThread:
    """What the app's Clock does: runs posted actions, here when the test asks."""

    def __init__(self) -> None:
        self.posted: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, action: Callable[[], None]) -> None:
        self.posted.put(action)

    def run_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for the runner")
            try:
                self.posted.get(timeout=left)()
            except queue.Empty:
                continue


@pytest.fixture
def journey(
    tmp_path: Path,
) -> Iterator[Callable[[str, str], tuple[Flow, JourneyRunner, MainThread, list[str]]]]:
    made: list[tuple[JourneyRunner, Services]] = []

    def make(url: str, token: str) -> tuple[Flow, JourneyRunner, MainThread, list[str]]:
        settings = KioskSettings(
            backend_url=url,
            api_token=token,
            kiosk_id="kiosk-test",
            connect_timeout=1.0,
            read_timeout=3.0,
        )
        services = Services(BackendClient(settings), Outbox(tmp_path / "outbox.sqlite3"))
        flow = Flow(Settings().guestbook.fields, Timeouts(), "kiosk-test", now=time.monotonic)
        main = MainThread()
        beeps: list[str] = []
        runner = JourneyRunner(services, lambda: flow, main.post, beeps.append)
        made.append((runner, services))
        return flow, runner, main, beeps

    yield make
    for runner, services in made:
        runner.shutdown()
        services.close()


def fill_in(flow: Flow, runner: JourneyRunner) -> None:
    for key, value in ANSWERS.items():
        runner.run(flow.answer(key, value))
    assert flow.can_submit()


def test_card_to_credential_against_a_real_backend(backend_server: BackendServer, journey) -> None:
    flow, runner, main, beeps = journey(backend_server.base_url, backend_server.token)
    runner.run(flow.card_read("19000101"))
    assert beeps == ["read"]
    assert flow.state is State.looking_up, "the lookup runs off the calling thread"
    main.run_until(lambda: flow.state is State.guestbook)
    assert flow.view.member_name == "Rahmat Hidayat"
    fill_in(flow, runner)
    runner.run(flow.submit())
    main.run_until(lambda: flow.state is not State.checking_in)
    assert flow.state is State.credentials
    assert flow.view.credential is not None and flow.view.credential.username


def test_unreachable_backend_keeps_the_guestbook_in_the_outbox(refused_url: str, journey) -> None:
    flow, runner, main, _beeps = journey(refused_url, "kiosk-test-token-0123456789")
    runner.run(flow.card_read("19000101"))
    main.run_until(lambda: flow.state is State.guestbook)
    assert flow.view.offline
    fill_in(flow, runner)
    runner.run(flow.submit())
    assert flow.view.notice is Notice.backend_unreachable
    outbox = runner.services.outbox
    deadline = time.monotonic() + 10
    while not outbox.due(now=1e12) and time.monotonic() < deadline:
        time.sleep(0.01)
    (entry,) = outbox.due(now=1e12)
    assert entry.body.card == "19000101" and entry.body.answers["purpose"] == "internet"


def test_an_outbox_that_cannot_write_sends_the_patron_to_staff(journey) -> None:
    flow, runner, main, _beeps = journey("http://127.0.0.1:9", "kiosk-test-token-0123456789")
    runner.services.outbox.close()  # every write now fails: the patron must be told
    runner.run(flow.card_read("19000101"))
    main.run_until(lambda: flow.state is State.guestbook)
    fill_in(flow, runner)
    runner.run(flow.submit())
    main.run_until(lambda: flow.view.notice is Notice.busy)
