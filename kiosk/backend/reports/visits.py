"""Visit reports for a period: SQL aggregates by day, hour, kiosk and guestbook answer."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import GuestVisitRow, MemberRow, VisitAnswerRow, VisitRow
from kiosk.protocol import COUNTER_KIOSK_ID

MAX_PERIOD_DAYS = 3700
# The guest field whose choices a group's count_<choice> answers (people per gender) fill.
GENDER_KEY = "gender"


class BadPeriod(ValueError):
    """The period's dates are missing, malformed, reversed or too long."""


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    @property
    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=n) for n in range(count)]

    def __str__(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} - {self.last.isoformat()}"


def parse_period(first: str | None, last: str | None, today: dt.date) -> Period:
    """`from`/`to` as YYYY-MM-DD; a missing `to` is `from`; both missing: today."""
    try:
        start = dt.date.fromisoformat(first) if first else today
        end = dt.date.fromisoformat(last) if last else start
    except ValueError:
        raise BadPeriod("dates are written YYYY-MM-DD") from None
    if end < start:
        raise BadPeriod("the period ends before it starts")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadPeriod(f"a period is at most {MAX_PERIOD_DAYS} days")
    return Period(start, end)


def named_period(kind: str, anchor: dt.date) -> Period:
    """The day, month or year holding `anchor`, or the first or second half of its year
    (`semester1`: January-June, `semester2`: July-December)."""
    if kind == "semester1":
        return Period(anchor.replace(month=1, day=1), anchor.replace(month=6, day=30))
    if kind == "semester2":
        return Period(anchor.replace(month=7, day=1), anchor.replace(month=12, day=31))
    if kind == "month":
        start = anchor.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return Period(start, following - dt.timedelta(days=1))
    if kind == "year":
        return Period(anchor.replace(month=1, day=1), anchor.replace(month=12, day=31))
    return Period(anchor, anchor)


@dataclass
class VisitReport:
    period: Period
    total: int = 0
    by_day: Counter[dt.date] = field(default_factory=Counter)
    by_hour: Counter[int] = field(default_factory=Counter)
    by_weekday: Counter[int] = field(default_factory=Counter)
    by_kiosk: Counter[str] = field(default_factory=Counter)
    # field key -> answer value -> count (members' gender from their member records too),
    # and field key -> (day, value) -> count of the answers given
    by_answer: dict[str, Counter[str]] = field(default_factory=dict)
    by_day_answer: dict[str, Counter[tuple[dt.date, str]]] = field(default_factory=dict)
    # Guest visits (POST /guest-visits) of one person, and groups with their head count,
    # for the period and per local day.
    guests: int = 0
    groups: int = 0
    group_people: int = 0
    guests_by_day: Counter[dt.date] = field(default_factory=Counter)
    groups_by_day: Counter[dt.date] = field(default_factory=Counter)
    group_people_by_day: Counter[dt.date] = field(default_factory=Counter)
    # Guests' answers per field, and groups' answers per field weighted by their people (a
    # group's gender: its count_<choice> answers).
    guest_answers: dict[str, Counter[str]] = field(default_factory=dict)
    group_answers: dict[str, Counter[str]] = field(default_factory=dict)
    # The internet service: members' credentials made at a kiosk, shown again, guests'
    # vouchers, and credentials staff issued at the service counter (no guestbook visit).
    credentials_issued: int = 0
    credentials_shown_again: int = 0
    guest_vouchers: int = 0
    counter_issues: int = 0
    # The kiosks the report counts (one location's); None: every kiosk.
    kiosks: frozenset[str] | None = None

    @property
    def visitors(self) -> int:
        """Everyone who came: members' visits, guests and the people of the groups."""
        return self.total + self.guests + self.group_people

    def visitors_on(self, day: dt.date) -> int:
        return (
            self.by_day.get(day, 0)
            + self.guests_by_day.get(day, 0)
            + self.group_people_by_day.get(day, 0)
        )


def counted_in(period: Period, kiosks: frozenset[str] | None = None) -> sa.ColumnElement[bool]:
    """The guestbook visits a report of `period` counts: not repeats, not counter issues, and
    only these kiosks' (a location's; None: every kiosk's)."""
    return sa.and_(
        VisitRow.local_day >= period.first,
        VisitRow.local_day <= period.last,
        VisitRow.counted.is_not(False),
        VisitRow.kiosk_id != COUNTER_KIOSK_ID,  # rows from before counter issues were kept out
        _at(VisitRow.kiosk_id, kiosks),
    )


def visit_report(
    session: Session,
    period: Period,
    fields: list[str],
    timezone: ZoneInfo | None = None,
    kiosks: Collection[str] | None = None,
) -> VisitReport:
    """Every breakdown of the period from one grouped query over visits and one per field
    over visit_answers (both read covering indexes); `kiosks`: only these kiosks' visits
    (one location's)."""
    report = VisitReport(period)
    report.kiosks = None if kiosks is None else frozenset(kiosks)
    in_period = counted_in(period, report.kiosks)
    grouped = session.execute(
        sa.select(VisitRow.local_day, VisitRow.local_hour, VisitRow.kiosk_id, sa.func.count())
        .where(in_period)
        .group_by(VisitRow.local_day, VisitRow.local_hour, VisitRow.kiosk_id)
    )
    for day, hour, kiosk_id, count in grouped:
        if day is None or hour is None:
            continue  # a visit the migration could not date (none are expected)
        report.total += count
        report.by_day[day] += count
        report.by_hour[int(hour)] += count
        report.by_weekday[day.weekday()] += count
        report.by_kiosk[kiosk_id] += count
    if timezone is not None:
        _count_guests(session, report, timezone)
    _count_internet(session, report)
    for key in fields:
        per_value: Counter[str] = Counter()
        per_day: Counter[tuple[dt.date, str]] = Counter()
        query = (
            sa.select(VisitAnswerRow.local_day, VisitAnswerRow.value, sa.func.count())
            .where(
                VisitAnswerRow.field == key,
                VisitAnswerRow.local_day >= period.first,
                VisitAnswerRow.local_day <= period.last,
            )
            .group_by(VisitAnswerRow.local_day, VisitAnswerRow.value)
        )
        if report.kiosks is not None:  # one location: the answers of its kiosks' visits
            query = query.join(VisitRow, VisitRow.id == VisitAnswerRow.visit_id).where(
                _at(VisitRow.kiosk_id, report.kiosks)
            )
        rows = session.execute(query)
        for day, value, count in rows:
            per_value[value] += count
            per_day[(day, value)] += count
        report.by_answer[key] = per_value
        report.by_day_answer[key] = per_day
    if GENDER_KEY in fields:
        count_member_genders(session, report)
    return report


def _at(column: Any, kiosks: frozenset[str] | None) -> sa.ColumnElement[bool]:
    """Only these kiosks' rows (None: every kiosk's)."""
    return sa.true() if kiosks is None else column.in_(sorted(kiosks))


def count_member_genders(session: Session, report: VisitReport) -> None:
    """Members' visits by their member's gender (members.gender, from the library's system
    or the members file), unless the visit's own answers say it; the visits of a member
    erased, or whose gender is not known, stay in the "not said" row. Counted per member
    (ix_visits_member_day): a join driven by the visits probes a member per visit, 20 times
    slower at a year's scale (docs/benchmarks.md, Console)."""
    of_member = [VisitRow.member_id == MemberRow.id, counted_in(report.period, report.kiosks)]
    if report.by_answer.get(GENDER_KEY):  # members are asked it too: their answer wins
        said = sa.select(VisitAnswerRow.visit_id).where(
            VisitAnswerRow.visit_id == VisitRow.id, VisitAnswerRow.field == GENDER_KEY
        )
        of_member.append(~sa.exists(said))
    visits = sa.select(sa.func.count()).select_from(VisitRow).where(*of_member).scalar_subquery()
    members = (
        sa.select(MemberRow.gender.label("gender"), visits.label("visits"))
        .where(MemberRow.gender.is_not(None))
        .subquery()
    )
    per_value = report.by_answer.setdefault(GENDER_KEY, Counter())
    rows = session.execute(
        sa.select(members.c.gender, sa.func.sum(members.c.visits)).group_by(members.c.gender)
    )
    for gender, count in rows:
        if gender is not None and count:
            per_value[gender] += int(count)


def _count_guests(session: Session, report: VisitReport, timezone: ZoneInfo) -> None:
    """Guests and groups of the period per local day and per answer, apart from members'
    visits (the guest_visits table is small and keeps only the instant, so the day is found
    here)."""
    start = dt.datetime.combine(report.period.first, dt.time(), tzinfo=timezone)
    end = dt.datetime.combine(report.period.last + dt.timedelta(days=1), dt.time(), tzinfo=timezone)
    rows = session.execute(
        sa.select(
            GuestVisitRow.occurred_at,
            GuestVisitRow.group_size,
            GuestVisitRow.answers,
            GuestVisitRow.username,
        ).where(
            GuestVisitRow.occurred_at >= start,
            GuestVisitRow.occurred_at < end,
            _at(GuestVisitRow.kiosk_id, report.kiosks),
        )
    )
    parsed: dict[str, dict[str, Any]] = {}  # guests' answers repeat: each text parsed once
    for occurred_at, size, answers_json, username in rows:
        if occurred_at.tzinfo is None:  # SQLite hands back naive UTC
            occurred_at = occurred_at.replace(tzinfo=dt.UTC)
        day = occurred_at.astimezone(timezone).date()
        answers = parsed.get(answers_json)
        if answers is None:
            answers = parsed[answers_json] = _answers_of(answers_json)
        if username:
            report.guest_vouchers += 1
        if size > 1:
            report.groups += 1
            report.group_people += int(size)
            report.groups_by_day[day] += 1
            report.group_people_by_day[day] += int(size)
            _add_group_answers(report.group_answers, answers, int(size))
        else:
            report.guests += 1
            report.guests_by_day[day] += 1
            for key, value in answers.items():
                if isinstance(value, str) and value:
                    report.guest_answers.setdefault(key, Counter())[value] += 1


def _answers_of(text: str | None) -> dict[str, Any]:
    try:
        answers = json.loads(text or "{}")
    except ValueError:
        return {}
    return answers if isinstance(answers, dict) else {}


def _add_group_answers(into: dict[str, Counter[str]], answers: dict[str, Any], size: int) -> None:
    """A group's choice answers count for every one of its people; its count_<choice>
    answers (people per gender) count as that many people of the gender field."""
    for key, value in answers.items():
        if key.startswith("count_") and isinstance(value, int) and value > 0:
            into.setdefault(GENDER_KEY, Counter())[key.removeprefix("count_")] += value
        elif isinstance(value, str) and value:
            into.setdefault(key, Counter())[value] += size


def _count_internet(session: Session, report: VisitReport) -> None:
    """Credentials of the period: made at a kiosk, shown again, and issued at the counter."""
    period = report.period
    at_counter = VisitRow.kiosk_id == COUNTER_KIOSK_ID
    # Not credential_id: the privacy purge unlinks it, and last year's figures must stay.
    given = VisitRow.credential_given.is_(True)
    row = session.execute(
        sa.select(
            sa.func.sum(sa.case((sa.and_(at_counter, given), 1), else_=0)),
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            ~at_counter,
                            given,
                            VisitRow.counted.is_not(False),
                            VisitRow.credential_reused.is_(False),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            sa.func.sum(
                sa.case(
                    (sa.and_(~at_counter, given, VisitRow.credential_reused.is_(True)), 1),
                    else_=0,
                )
            ),
        ).where(
            VisitRow.local_day >= period.first,
            VisitRow.local_day <= period.last,
            _at(VisitRow.kiosk_id, report.kiosks),
        )
    ).one()
    report.counter_issues = int(row[0] or 0)
    report.credentials_issued = int(row[1] or 0)
    report.credentials_shown_again = int(row[2] or 0)


def answer_values(visit_id: int, answers: dict[str, Any], day: dt.date) -> list[dict[str, Any]]:
    """The report rows of a visit's answers, as values for one insert (empty answers are
    not counted)."""
    return [
        {"visit_id": visit_id, "field": key[:32], "value": str(value)[:80], "local_day": day}
        for key, value in answers.items()
        if value is not None and value != ""
    ]


def answer_rows(visit_id: int, answers: dict[str, Any], day: dt.date) -> list[VisitAnswerRow]:
    """The same rows as ORM objects, for code that adds them to a session."""
    return [VisitAnswerRow(**values) for values in answer_values(visit_id, answers, day)]
