"""The visit report's members by gender on a real SQLite file migrated like the backend's: a
member's record gives the gender unless the visit's own answer says it (never both), and
repeats, counter issues and members without a gender stay out of the genders."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.backend.db import (
    MemberRow,
    VisitAnswerRow,
    VisitRow,
    create_db_engine,
    migrate,
    read_session,
)
from kiosk.backend.reports.visits import Period, visit_report
from kiosk.protocol import COUNTER_KIOSK_ID

DAY = dt.date(2025, 3, 4)
NOW = dt.datetime(2025, 3, 4, 3, tzinfo=dt.UTC)
MEMBERS = {"19000401": "laki_laki", "19000402": "perempuan", "19000403": None}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(MemberRow),
            [
                {"id": m, "name": m, "status": "active", "gender": g, "updated_at": NOW}
                for m, g in MEMBERS.items()
            ],
        )
    yield engine
    engine.dispose()


def visit(
    engine: Engine,
    member_id: str,
    answers: dict[str, str],
    *,
    counted: bool = True,
    kiosk: str = "kiosk-1",
) -> None:
    with engine.begin() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(VisitRow)).scalar_one() + 1
        conn.execute(
            sa.insert(VisitRow).values(
                id=n,
                client_ref=f"{n:036d}",
                member_id=member_id,
                kiosk_id=kiosk,
                occurred_at=NOW,
                received_at=NOW,
                answers=json.dumps(answers),
                want_internet=False,
                credential_reused=False,
                request_digest="d",
                response="{}",
                local_day=DAY,
                local_hour=10,
                counted=counted,
            )
        )
        for key, value in answers.items():
            conn.execute(
                sa.insert(VisitAnswerRow).values(visit_id=n, field=key, value=value, local_day=DAY)
            )


def genders(engine: Engine) -> tuple[int, dict[str, int]]:
    with read_session(engine) as session:
        report = visit_report(session, Period(DAY, DAY), ["purpose", "gender"])
    return report.total, dict(report.by_answer["gender"])


def test_members_by_their_record_and_only_those_counted(engine: Engine) -> None:
    visit(engine, "19000401", {"purpose": "membaca"})
    visit(engine, "19000401", {"purpose": "membaca"})
    visit(engine, "19000402", {"purpose": "internet"})
    visit(engine, "19000403", {"purpose": "internet"})  # no gender known: "not said"
    visit(engine, "19000402", {}, counted=False)  # a repeat inside the window
    visit(engine, "19000401", {}, kiosk=COUNTER_KIOSK_ID)  # issued at the counter
    visit(engine, "", {"purpose": "membaca"})  # an erased member's visit
    assert genders(engine) == (5, {"laki_laki": 2, "perempuan": 1})


def test_a_visits_own_gender_answer_wins_over_the_members_record(engine: Engine) -> None:
    visit(engine, "19000401", {"purpose": "membaca"})
    visit(engine, "19000401", {"purpose": "membaca", "gender": "perempuan"})
    visit(engine, "19000402", {"purpose": "membaca"})
    visit(engine, "19000403", {"purpose": "membaca", "gender": "laki_laki"})
    # Answers: perempuan 1, laki_laki 1; records of the visits without one: 19000401 once
    # (laki_laki), 19000402 once (perempuan); four visits, four genders, none twice.
    assert genders(engine) == (4, {"laki_laki": 2, "perempuan": 2})
