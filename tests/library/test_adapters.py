"""SLiMS and INLISLite adapters against a real MariaDB, through the restricted kiosk account."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pymysql
import pytest
import sqlalchemy as sa
from support.mariadb_server import KIOSK_PASSWORD, KIOSK_USER, Library, MariaDB

from kiosk.backend.library.inlislite import InlisliteSource
from kiosk.backend.library.link import LibraryVisit, classify, create_library_engine
from kiosk.backend.library.slims import SlimsSource
from kiosk.config.members import InlisliteSettings, SlimsSettings
from kiosk.protocol import MemberStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
AT = dt.datetime(2026, 12, 1, 9, 30, 5)


def slims(library: Library, **settings: object) -> SlimsSource:
    engine = create_library_engine(library.server.url(library.slims), 2.0)
    return SlimsSource(engine, SlimsSettings.model_validate(settings), JAKARTA)


def inlislite(library: Library, **settings: object) -> InlisliteSource:
    engine = create_library_engine(library.server.url(library.inlis), 2.0)
    return InlisliteSource(engine, InlisliteSettings.model_validate(settings), JAKARTA)


def test_slims_member_comes_with_status_institution_and_birth_date(library: Library) -> None:
    library.add_slims_member(
        "B0001", "Siti Rahayu", "2027-01-31", birth_date="2001-04-17", inst_name="SMAN 1"
    )
    library.add_slims_member("B0002", "Dewi Lestari", "2020-01-31")
    library.add_slims_member("B0003", "Budi Santoso", "2030-01-31", is_pending=1)
    source = slims(library)
    siti = source.find("B0001")
    assert siti is not None
    assert (siti.name, siti.status, siti.expires_on) == (
        "Siti Rahayu",
        MemberStatus.active,
        dt.date(2027, 1, 31),
    )
    assert (siti.institution, siti.birth_date) == ("SMAN 1", dt.date(2001, 4, 17))
    budi = source.find("B0003")
    assert budi is not None and budi.status is MemberStatus.blocked and budi.institution is None
    assert source.find("B9999") is None
    assert [m.id for m in source.members()] == ["B0001", "B0002", "B0003"]


def test_slims_visit_is_written_once_with_room_code(library: Library) -> None:
    source = slims(library, room_code="LT1")
    visit = LibraryVisit("B0001", "Siti Rahayu", "SMAN 1", AT, "kiosk-1", {})
    assert source.write_visit(visit) is True
    assert source.write_visit(visit) is False  # a retry after a lost answer
    guest = LibraryVisit(None, "Tamu Umum", "Universitas Terbuka", AT, "kiosk-1", {})
    assert source.write_visit(guest) is True
    rows = library.slims_sql(
        "SELECT IFNULL(member_id,'NULL'), member_name, institution, room_code, checkin_date "
        "FROM visitor_count ORDER BY visitor_id"
    )
    assert rows == [
        ["B0001", "Siti Rahayu", "SMAN 1", "LT1", "2026-12-01 09:30:05"],
        ["NULL", "Tamu Umum", "Universitas Terbuka", "LT1", "2026-12-01 09:30:05"],
    ]


def test_slims_before_9_6_gets_no_room_code(mariadb: MariaDB) -> None:
    old = Library(mariadb, room_code=False)
    source = slims(old, room_code="LT1")
    assert source.write_visit(LibraryVisit("B0001", "Siti", None, AT, "k", {})) is True
    assert old.slims_sql("SELECT member_id, checkin_date FROM visitor_count") == [
        ["B0001", "2026-12-01 09:30:05"]
    ]


def test_inlislite_member_status_and_visit_with_mapped_answers(library: Library) -> None:
    library.inlis_sql(
        "INSERT INTO members (MemberNo, Fullname, DateOfBirth, InstitutionName, EndDate, "
        "StatusAnggota_id) VALUES ('M-001', 'Agus Salim', '1990-02-03', 'Dinas', '2027-05-01', 3),"
        "('M-002', 'Rina', NULL, NULL, '2027-05-01', 5)"
    )
    source = inlislite(library, location_id=7, purpose_ids={"membaca": 2})
    agus = source.find("M-001")
    assert agus is not None and agus.status is MemberStatus.active
    assert agus.birth_date == dt.date(1990, 2, 3)
    rina = source.find("M-002")
    assert rina is not None and rina.status is MemberStatus.blocked
    answers = {"purpose": "membaca", "occupation": "mahasiswa", "education": "s1"}
    visit = LibraryVisit("M-001", "Agus Salim", "Dinas", AT, "kiosk-1", answers)
    assert source.write_visit(visit) is True
    assert source.write_visit(visit) is False
    assert library.inlis_sql(
        "SELECT NoAnggota, Nama, Profesi_id, PendidikanTerakhir_id, "
        "IFNULL(JenisKelamin_id,'NULL'), Location_Id, TujuanKunjungan_Id, CreateDate, "
        "CreateTerminal FROM memberguesses"
    ) == [
        ["M-001", "Agus Salim", "10", "7", "NULL", "7", "2", "2026-12-01 09:30:05", "kiosk:kiosk-1"]
    ]


def test_kiosk_account_may_not_change_members(library: Library) -> None:
    engine = create_library_engine(library.server.url(library.slims), 2.0)
    with pytest.raises(sa.exc.OperationalError) as caught, engine.connect() as connection:
        connection.execute(sa.text("UPDATE member SET is_pending = 0"))
    assert isinstance(caught.value.orig, pymysql.err.OperationalError)
    assert caught.value.orig.args[0] == 1142
    assert type(classify(caught.value)).__name__ == "LibraryRefused"
    assert KIOSK_USER in library.server.url(library.slims) and KIOSK_PASSWORD


def test_a_stopped_database_is_unavailable_not_refused(mariadb: MariaDB) -> None:
    lib = Library(mariadb)
    source = slims(lib)
    mariadb.stop()
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            source.find("B0001")
        assert type(classify(caught.value)).__name__ == "LibraryUnavailable"
    finally:
        mariadb.start()
