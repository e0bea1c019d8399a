"""SLiMS 9 adapter: members from `member`, kiosk visits into `visitor_count` as SLiMS's own
visitor counter writes them (explicit Core tables of only the columns used)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.backend.library.gender import MemberGenders
from kiosk.backend.library.link import (
    LibraryMember,
    LibraryVisit,
    UnreadableMember,
    find_member,
    holds,
    insert_once,
    page_members,
    storable_text,
)
from kiosk.backend.library.status import slims_stored_status, stored_birth_date, stored_expiry
from kiosk.config.members import SlimsSettings

CHARSET = "utf8mb3"  # SLiMS's member and visitor_count tables (utf8, utf8_unicode_ci)


def member_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("member_id", sa.String(20), primary_key=True),
        sa.Column("member_name", sa.String(100)),
        sa.Column("birth_date", sa.Date),
        sa.Column("gender", sa.Integer),  # 1 male, 0 female
        sa.Column("inst_name", sa.String(100)),
        sa.Column("expire_date", sa.Date),
        sa.Column("is_pending", sa.SmallInteger),
    )


def visitor_table(name: str, *, with_room: bool) -> sa.Table:
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("visitor_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(20)),
        sa.Column("member_name", sa.String(255)),
        sa.Column("institution", sa.String(100)),
        sa.Column("checkin_date", sa.DateTime),
    ]
    if with_room:
        columns.append(sa.Column("room_code", sa.String(5)))  # SLiMS 9.6.0 and later
    return sa.Table(name, sa.MetaData(), *columns)


class SlimsSource:
    name = "slims"

    def __init__(
        self,
        engine: Engine,
        settings: SlimsSettings,
        timezone: dt.tzinfo,
        genders: MemberGenders | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.timezone = timezone
        self.genders = genders or MemberGenders()
        self.member = member_table(settings.member_table)
        self._visitor: sa.Table | None = None
        self._lock = threading.Lock()

    def _to_member(self, row: sa.Row[tuple[object, ...]]) -> LibraryMember:
        m = row._mapping
        return LibraryMember(
            id=str(m["member_id"]),
            name=str(m["member_name"]),
            status=slims_stored_status(m["is_pending"]),
            expires_on=stored_expiry(m["expire_date"]),
            institution=m["inst_name"] or None,
            birth_date=stored_birth_date(m["birth_date"]),
            gender=self.genders.from_slims(m["gender"]),
        )

    def close(self) -> None:
        self.engine.dispose()

    def find(self, member_id: str) -> LibraryMember | None:
        if not all(holds(CHARSET, c) for c in member_id):
            return None  # no member_id can hold it (and asking would fail with error 1267)
        return find_member(self.engine, self.member.c.member_id, member_id, self._to_member)

    def members(self) -> Iterator[LibraryMember | UnreadableMember]:
        return page_members(self.engine, self.member.c.member_id, self._to_member)

    def visitor(self) -> sa.Table:
        """visitor_count, with room_code when this SLiMS has it (asked once)."""
        with self._lock:
            if self._visitor is None:
                with self.engine.connect() as connection:
                    found = connection.execute(
                        sa.text(
                            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
                            "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table "
                            "AND COLUMN_NAME = 'room_code'"
                        ),
                        {"table": self.settings.visitor_table},
                    ).scalar_one()
                self._visitor = visitor_table(self.settings.visitor_table, with_room=found > 0)
            return self._visitor

    def write_visit(self, visit: LibraryVisit) -> bool:
        table = self.visitor()
        values: dict[str, object] = {
            "member_id": visit.member_id,
            "member_name": storable_text(visit.name, CHARSET, 255),
            "institution": storable_text(visit.institution or "", CHARSET, 100) or None,
            "checkin_date": visit.checkin_at,
        }
        room = visit.room_code if visit.room_code is not None else self.settings.room_code
        if "room_code" in table.c and room:
            values["room_code"] = room
        # MyISAM: no transaction to lean on. The same member at the same second is the same
        # visit, so a retry after a lost answer finds its row and writes nothing.
        same = sa.select(table.c.visitor_id).where(
            table.c.member_id.is_not_distinct_from(visit.member_id),
            table.c.member_name == values["member_name"],
            table.c.checkin_date == visit.checkin_at,
        )
        return insert_once(self.engine, table, values, same)
