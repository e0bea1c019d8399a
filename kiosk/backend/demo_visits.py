"""`kiosk demo-visits`: a few weeks of made-up guestbook visits so the console's reports
show something in the demo (never for a library's real database)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kiosk.backend.db import MemberRow, VisitRow, create_db_engine, migrate, write_session
from kiosk.backend.reports.visits import answer_rows
from kiosk.config import Settings

# Opening hours and how busy each hour is (a morning and an after-school peak).
HOUR_WEIGHTS = {8: 3, 9: 6, 10: 8, 11: 7, 12: 4, 13: 6, 14: 9, 15: 10, 16: 7, 17: 3}
DEMO_KIOSKS = ("kiosk-pintu-utama", "kiosk-lantai-2")


def cmd_demo_visits(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        count = add_demo_visits(engine, settings, days=args.days, seed=args.seed)
    finally:
        engine.dispose()
    print(f"kiosk demo-visits: {count} visits over the last {args.days} days")
    return 0


def add_demo_visits(engine: sa.Engine, settings: Settings, *, days: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    zone = ZoneInfo(settings.backend.timezone)
    today = dt.datetime.now(zone).date()
    choice_fields = [f for f in settings.guestbook.fields if f.kind == "choice"]
    total = 0
    with write_session(engine) as session:
        members = list(session.scalars(sa.select(MemberRow.id)))
        if not members:
            return 0
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            if day.weekday() == 6:
                continue  # closed on Sunday
            for _ in range(rng.randint(25, 60)):
                hour = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()))[0]
                local = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)), tzinfo=zone)
                answers = {f.key: rng.choice(f.choices).key for f in choice_fields}
                row = VisitRow(
                    client_ref=str(uuid.UUID(int=rng.getrandbits(128))),
                    member_id=rng.choice(members),
                    kiosk_id=rng.choice(DEMO_KIOSKS),
                    occurred_at=local,
                    received_at=local,
                    answers=json.dumps(answers, sort_keys=True),
                    want_internet=answers.get("purpose") == "internet",
                    credential_reused=False,
                    request_digest="demo",
                    response="{}",
                    local_day=day,
                    local_hour=hour,
                )
                session.add(row)
                session.flush()
                session.add_all(answer_rows(row.id, answers, day))
                total += 1
    return total
