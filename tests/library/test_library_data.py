"""What real SLiMS and INLISLite databases hold, through the adapters on a real MariaDB in its
default mode: zero and impossible dates, text their utf8mb3/latin1 columns cannot hold, and a
visit the library refuses while the ones behind it go on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from support.mariadb_server import Library

from kiosk.backend.db import WritebackRow, create_db_engine, migrate, read_session, write_session
from kiosk.backend.library import writeback
from kiosk.backend.library.inlislite import InlisliteSource
from kiosk.backend.library.link import LibraryVisit, UnreadableMember, create_library_engine
from kiosk.backend.library.slims import SlimsSource
from kiosk.config.members import InlisliteSettings, SlimsSettings
from kiosk.protocol import MemberStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
AT = dt.datetime(2026, 12, 1, 9, 30, 5)


def slims(library: Library, **settings: object) -> SlimsSource:
    engine = create_library_engine(library.server.url(library.slims), 2.0)
    return SlimsSource(engine, SlimsSettings.model_validate(settings), JAKARTA)


def inlislite(library: Library) -> InlisliteSource:
    engine = create_library_engine(library.server.url(library.inlis), 2.0)
    return InlisliteSource(engine, InlisliteSettings(), JAKARTA)


def test_slims_zero_and_impossible_dates_read_as_its_circulation_desk_does(
    library: Library,
) -> None:
    library.add_slims_ldap_member("L0001", "Anggota LDAP")
    library.add_slims_member("B0010", "Siti", "2027-02-00", birth_date="0000-00-00")
    library.add_slims_member("B0011", "Budi", "2027-00-00", birth_date="1990-02-00")
    library.add_slims_member("B0012", "Dewi", "0000-00-00", birth_date="1990-02-03")
    assert library.slims_sql("SELECT expire_date FROM member WHERE member_id='L0001'") == [
        ["0000-00-00"]
    ]
    source = slims(library)
    ldap = source.find("L0001")
    assert ldap is not None
    assert (ldap.status, ldap.expires_on, ldap.institution) == (
        MemberStatus.blocked,  # SLiMS's LDAP login makes them pending
        dt.date.min,  # '0000-00-00': expired, as SLiMS's circulation has it
        "New registered member",
    )
    siti, budi, dewi = (source.find(m) for m in ("B0010", "B0011", "B0012"))
    assert siti is not None and budi is not None and dewi is not None
    assert (siti.expires_on, siti.birth_date) == (dt.date(2027, 1, 31), None)
    assert (budi.expires_on, budi.birth_date) == (dt.date(2026, 12, 31), None)
    assert (dewi.expires_on, dewi.birth_date) == (dt.date.min, dt.date(1990, 2, 3))
    assert [m.id for m in source.members()] == ["B0010", "B0011", "B0012", "L0001"]


def test_slims_row_without_a_member_number_is_named_and_the_rest_still_come(
    library: Library,
) -> None:
    library.add_slims_member("B0001", "Siti", "2030-01-31")
    library.add_slims_member("", "Tanpa Nomor", "2030-01-31")
    library.add_slims_member("B0002", "Budi", "0000-00-00")
    listed = list(slims(library).members())
    assert listed[0] == UnreadableMember("", "no member number")
    assert [m.id for m in listed[1:]] == ["B0001", "B0002"]


def test_slims_text_it_cannot_hold_is_replaced_and_the_visit_written_once(
    library: Library,
) -> None:
    source = slims(library, room_code="LT1")
    guest = LibraryVisit(None, "Putri 🌸 Ayu", "𝓤𝓷𝓲𝓿𝓮𝓻𝓼𝓲𝓽𝓪𝓼 Terbuka", AT, "k", {})
    assert source.write_visit(guest) is True
    assert source.write_visit(guest) is False  # the duplicate check works on the same text
    member = LibraryVisit("B0001", "Siti 𠀀 Rahayu", None, AT, "k", {})  # CJK Extension B
    assert source.write_visit(member) is True
    assert library.slims_sql(
        "SELECT IFNULL(member_id,'NULL'), member_name, IFNULL(institution,'NULL') "
        "FROM visitor_count ORDER BY visitor_id"
    ) == [
        ["NULL", "Putri ? Ayu", "Universitas Terbuka"],
        ["B0001", "Siti ? Rahayu", "NULL"],
    ]
    assert source.find("B😀01") is None  # no member_id can hold it: nobody, not an error


def test_inlislite_zero_dates_and_latin1_text(library: Library) -> None:
    library.inlis_sql(
        "INSERT INTO members (MemberNo, Fullname, DateOfBirth, EndDate, StatusAnggota_id) "
        "VALUES ('M-010', 'José', '0000-00-00', '0000-00-00', 3),"
        "('M-011', 'Rina', '1990-02-00', '2027-02-00', 3)"
    )
    source = inlislite(library)
    jose, rina = source.find("M-010"), source.find("M-011")
    assert jose is not None and rina is not None
    assert (jose.expires_on, jose.birth_date) == (dt.date.min, None)
    assert (rina.expires_on, rina.birth_date) == (dt.date(2027, 1, 31), None)
    visit = LibraryVisit(None, "Dewi ꦢꦺꦮꦶ José 😀", "Ｕｎｉｖ € Terbuka", AT, "k", {})
    assert source.write_visit(visit) is True
    assert source.write_visit(visit) is False
    assert library.inlis_sql("SELECT Nama, Information FROM memberguesses") == [
        ["Dewi ???? José ?", "Univ € Terbuka"]
    ]


def test_a_visit_the_library_refuses_does_not_hold_up_the_ones_behind_it(
    library: Library, tmp_path: Path
) -> None:
    # Something only the library's side can fix refuses one row (here a trigger of its own).
    library.slims_sql(
        "DELIMITER //\n"
        "CREATE TRIGGER refuse_one BEFORE INSERT ON visitor_count FOR EACH ROW "
        "IF NEW.member_name = 'Ditolak' THEN "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the library'; END IF //\n"
        "DELIMITER ;\n"
    )
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    migrate(engine)
    now = dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.UTC)
    names = ["Siti", "Ditolak", "Budi", "Dewi"]
    with write_session(engine) as session:
        for n, name in enumerate(names):
            visit = LibraryVisit(None, name, "Umum", AT + dt.timedelta(seconds=n), "k", {})
            writeback.enqueue(session, "slims", f"ref-{n}", visit, now)
    source = slims(library)
    report = writeback.drain_once(engine, source, lambda: now, max_attempts=3)
    assert (report.written, report.passed, report.set_aside, report.stopped) == (3, 1, 0, "")
    assert [r[0] for r in library.slims_sql("SELECT member_name FROM visitor_count")] == [
        "Siti",
        "Budi",
        "Dewi",
    ]
    for _ in range(2):
        report = writeback.drain_once(engine, source, lambda: now, max_attempts=3)
    assert report.set_aside == 1
    with read_session(engine) as session:
        failed = session.scalars(sa.select(WritebackRow).where(WritebackRow.state == "failed"))
        assert [json.loads(row.payload)["name"] for row in failed] == ["Ditolak"]
    backlog = writeback.backlog(engine)
    assert (backlog.waiting, backlog.failed) == (0, 1)
    assert backlog.last_error is not None and "refused by the library" in backlog.last_error
