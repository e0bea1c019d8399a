"""[backend] request_threads: few threads when no route waits on the network, anyio's 40
when one can, the configured number when set; a real server logs what it runs with."""

from __future__ import annotations

import re
from pathlib import Path

from support.backend_server import BackendServer, checkin_body, post_together

from kiosk.backend.app import request_threads
from kiosk.backend.db import create_db_engine
from kiosk.backend.desk.checkins import CheckinDesk
from kiosk.backend.provisioning import build_provisioner
from kiosk.config import Settings


def _threads_logged(server: BackendServer) -> int:
    found = re.findall(r"request threads (\d+)", server.log_tail(200))
    assert found, server.log_tail(40)
    return int(found[-1])


def test_the_default_is_eight_with_the_local_provisioner_and_forty_with_a_router(
    tmp_path: Path,
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    try:
        local = Settings()
        desk = CheckinDesk(engine, local, build_provisioner(local.provisioning))
        assert request_threads(0, desk) == 8
        assert request_threads(3, desk) == 3
        router = Settings.model_validate(
            {"provisioning": {"kind": "mikrotik-rest", "mikrotik": {"password": "x" * 12}}}
        )
        network = build_provisioner(router.provisioning)
        assert request_threads(0, CheckinDesk(engine, router, network)) == 40
    finally:
        engine.dispose()


def test_a_server_with_three_threads_answers_every_one_of_thirty_concurrent_check_ins(
    tmp_path: Path,
) -> None:
    with BackendServer(tmp_path / "default") as server:
        assert _threads_logged(server) == 8
    with BackendServer(tmp_path / "three", backend={"request_threads": 3}) as server:
        assert _threads_logged(server) == 3
        members = ["19000101", "19000102", "19000103"]
        bodies = [checkin_body(members[n % 3]) for n in range(30)]
        answers = post_together(server, "checkins", bodies)
        assert [a.status_code for a in answers] == [201] * 30
        # One credential per member, however the thirty were spread over three threads.
        usernames = {a.json()["visit"]["member_id"]: set() for a in answers}
        for answer in answers:
            usernames[answer.json()["visit"]["member_id"]].add(
                answer.json()["credential"]["username"]
            )
        assert all(len(names) == 1 for names in usernames.values())
