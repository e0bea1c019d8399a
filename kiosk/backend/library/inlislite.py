"""INLISLite v3 adapter: members from `members`, visits into `memberguesses` (groups into
`groupguesses`) with answers mapped to INLISLite's master ids (Core tables, used columns only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kiosk.backend.library.gender import MemberGenders, genders_of
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
from kiosk.backend.library.status import inlislite_stored_status, stored_birth_date, stored_expiry
from kiosk.config.guests import default_guest_fields
from kiosk.config.members import InlisliteSettings

CHARSET = "latin1"  # the official updater's tables (DEFAULT CHARSET latin1)

MEMBERS = sa.Table(
    "members",
    sa.MetaData(),
    sa.Column("ID", sa.Numeric, primary_key=True),
    sa.Column("MemberNo", sa.String(50)),
    sa.Column("Fullname", sa.String(255)),
    sa.Column("DateOfBirth", sa.Date),
    sa.Column("Sex_id", sa.Integer),  # jenis_kelamin: 1 Laki-laki, 2 Perempuan
    sa.Column("InstitutionName", sa.String(255)),
    sa.Column("EndDate", sa.Date),
    sa.Column("StatusAnggota_id", sa.Integer),
)

GUESTS = sa.Table(
    "memberguesses",
    sa.MetaData(),
    sa.Column("ID", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("NoAnggota", sa.String(50)),
    sa.Column("Nama", sa.String(100)),
    sa.Column("Profesi_id", sa.Integer),
    sa.Column("PendidikanTerakhir_id", sa.Integer),
    sa.Column("JenisKelamin_id", sa.Integer),
    sa.Column("Location_Id", sa.Integer),
    sa.Column("TujuanKunjungan_Id", sa.Integer),
    sa.Column("Information", sa.String(255)),
    sa.Column("CreateDate", sa.DateTime),
    sa.Column("CreateTerminal", sa.String(100)),
)

GROUPS = sa.Table(
    "groupguesses",
    sa.MetaData(),
    sa.Column("ID", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("NamaKetua", sa.String(255)),
    sa.Column("AsalInstansi", sa.String(255)),
    sa.Column("AlamatInstansi", sa.String(255)),
    sa.Column("CountPersonel", sa.Integer),
    sa.Column("CountLaki", sa.Integer),
    sa.Column("CountPerempuan", sa.Integer),
    sa.Column("TujuanKunjungan_ID", sa.Integer),
    sa.Column("Location_ID", sa.Integer),
    sa.Column("Information", sa.String(255)),
    sa.Column("CreateDate", sa.DateTime),
    sa.Column("CreateTerminal", sa.String(100)),
)
# jenis_kelamin ids of CountLaki and CountPerempuan.
MALE_ID, FEMALE_ID = 1, 2


def located(visit: LibraryVisit, global_id: int | None) -> int | None:
    """The kiosk's location's Location_Id, else [members.inlislite] location_id."""
    return visit.location_id if visit.location_id is not None else global_id


class InlisliteSource:
    name = "inlislite"

    def __init__(
        self,
        engine: Engine,
        settings: InlisliteSettings,
        timezone: dt.tzinfo,
        genders: MemberGenders | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.timezone = timezone
        # Sex_id through gender_ids reversed, kept to the guest form's gender choices.
        self.genders = genders or genders_of(default_guest_fields(), settings)

    def _to_member(self, row: sa.Row[tuple[object, ...]]) -> LibraryMember:
        m = row._mapping
        return LibraryMember(
            id=str(m["MemberNo"]),
            name=str(m["Fullname"]),
            status=inlislite_stored_status(
                m["StatusAnggota_id"],
                self.settings.active_status_id,
            ),
            expires_on=stored_expiry(m["EndDate"]),
            institution=m["InstitutionName"] or None,
            birth_date=stored_birth_date(m["DateOfBirth"]),
            gender=self.genders.from_inlislite(m["Sex_id"]),
        )

    def close(self) -> None:
        self.engine.dispose()

    def find(self, member_id: str) -> LibraryMember | None:
        if not all(holds(CHARSET, c) for c in member_id):
            return None  # no MemberNo can hold it
        return find_member(self.engine, MEMBERS.c.MemberNo, member_id, self._to_member)

    def members(self) -> Iterator[LibraryMember | UnreadableMember]:
        return page_members(self.engine, MEMBERS.c.MemberNo, self._to_member)

    def guest_row(self, visit: LibraryVisit) -> dict[str, object]:
        """The memberguesses row: answers through [members.inlislite] *_ids (unmapped: NULL)."""
        s = self.settings

        def mapped(field: str, ids: dict[str, int]) -> int | None:
            answer = visit.answers.get(field)
            return ids.get(answer) if isinstance(answer, str) else None

        return {
            "NoAnggota": visit.member_id,
            "Nama": storable_text(visit.name, CHARSET, 100),
            "Profesi_id": mapped(s.occupation_field, s.occupation_ids),
            "PendidikanTerakhir_id": mapped(s.education_field, s.education_ids),
            "JenisKelamin_id": mapped(s.gender_field, s.gender_ids),
            "Location_Id": located(visit, s.location_id),
            "TujuanKunjungan_Id": mapped(s.purpose_field, s.purpose_ids),
            "Information": storable_text(visit.institution or "", CHARSET, 255) or None,
            "CreateDate": visit.checkin_at,
            "CreateTerminal": storable_text(f"kiosk:{visit.kiosk_id}", CHARSET, 100),
        }

    def group_row(self, visit: LibraryVisit) -> dict[str, object]:
        """The groupguesses row: the leader, the institution, the head count, and per gender
        the count_<choice> answers through [members.inlislite] gender_ids (NULL: not asked)."""
        s = self.settings
        per_gender: dict[int, int] = {}
        for key, value in visit.answers.items():
            gender_id = s.gender_ids.get(key.removeprefix("count_"))
            if key.startswith("count_") and isinstance(value, int) and gender_id is not None:
                per_gender[gender_id] = per_gender.get(gender_id, 0) + value
        purpose = visit.answers.get(s.purpose_field)
        institution = (visit.institution or "")[:255]
        return {
            "NamaKetua": visit.name[:255],
            "AsalInstansi": institution,
            "AlamatInstansi": "",  # required by INLISLite's form; the kiosk does not ask it
            "CountPersonel": visit.group_size,
            "CountLaki": per_gender.get(MALE_ID) if per_gender else None,
            "CountPerempuan": per_gender.get(FEMALE_ID) if per_gender else None,
            "TujuanKunjungan_ID": s.purpose_ids.get(purpose) if isinstance(purpose, str) else None,
            "Location_ID": located(visit, s.location_id),
            "Information": None,
            "CreateDate": visit.checkin_at,
            "CreateTerminal": f"kiosk:{visit.kiosk_id}"[:100],
        }

    def write_group(self, visit: LibraryVisit) -> bool:
        values = self.group_row(visit)
        # The same leader of the same institution at the same second is the same group.
        same = sa.select(GROUPS.c.ID).where(
            GROUPS.c.NamaKetua == values["NamaKetua"],
            GROUPS.c.AsalInstansi == values["AsalInstansi"],
            GROUPS.c.CreateDate == visit.checkin_at,
        )
        return insert_once(self.engine, GROUPS, values, same)

    def write_visit(self, visit: LibraryVisit) -> bool:
        if visit.group_size > 1:
            return self.write_group(visit)
        values = self.guest_row(visit)
        # No transaction assumed: the same member (or guest name) at the same second is the
        # same visit, so a retry after a lost answer writes nothing.
        same = sa.select(GUESTS.c.ID).where(
            GUESTS.c.NoAnggota.is_not_distinct_from(visit.member_id),
            GUESTS.c.Nama == values["Nama"],
            GUESTS.c.CreateDate == visit.checkin_at,
        )
        return insert_once(self.engine, GUESTS, values, same)
