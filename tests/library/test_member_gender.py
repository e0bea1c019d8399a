"""Members' gender from the library's system on the real MariaDB: SLiMS member.gender and
INLISLite members.Sex_id reach the local copy as the guest form's gender keys, by `kiosk
members sync` and by a live lookup, and a change in the library is copied again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.backend_server import BackendServer
from support.mariadb_server import Library, MariaDB


def genders(server: BackendServer) -> dict[str, str | None]:
    with sqlite3.connect(server.database_path) as db:
        return dict(db.execute("SELECT id, gender FROM members ORDER BY id").fetchall())


def test_slims_sync_and_lookup_bring_each_members_gender(tmp_path: Path, mariadb: MariaDB) -> None:
    library = Library(mariadb)
    library.add_slims_member("19003001", "Budi Santoso", "2031-01-31", gender=1)
    library.add_slims_member("19003002", "Siti Rahayu", "2031-01-31", gender=0)
    library.add_slims_member("19003003", "Dewi Lestari", "2031-01-31", gender=0)
    slims = {"database_url": mariadb.url(library.slims), "record_visits": False}
    server = BackendServer(
        tmp_path, members_csv=None, start=False, members={"source": "slims", "slims": slims}
    )
    synced = server.kiosk("members", "sync")
    assert "3 member(s): 3 added, 0 updated, 0 unchanged" in synced.stdout
    assert genders(server) == {
        "19003001": "laki_laki",
        "19003002": "perempuan",
        "19003003": "perempuan",
    }
    # A correction in SLiMS is a change like a name's: the next sync copies it.
    library.slims_sql("UPDATE member SET gender = 1 WHERE member_id = '19003003'")
    again = server.kiosk("members", "sync")
    assert "3 member(s): 0 added, 1 updated, 2 unchanged" in again.stdout
    assert genders(server)["19003003"] == "laki_laki"
    # A live lookup refreshes the copy the same way.
    library.slims_sql("UPDATE member SET gender = 0 WHERE member_id = '19003001'")
    server.start()
    try:
        answer = server.post("members/lookup", json={"card": "19003001"})
        assert answer.json()["served_from"] == "library", answer.text
    finally:
        server.stop()
    assert genders(server)["19003001"] == "perempuan"


def test_inlislite_sync_maps_sex_id_through_gender_ids_reversed(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.inlis_sql(
        "INSERT INTO members (MemberNo, Fullname, Sex_id, EndDate, StatusAnggota_id) VALUES "
        "('19004001', 'Agus Salim', 1, '2031-05-01', 3),"
        "('19004002', 'Rina Wati', 2, '2031-05-01', 3),"
        "('19004003', 'Tanpa Data', NULL, '2031-05-01', 3),"
        "('19004004', 'Kode Lain', 7, '2031-05-01', 3)"
    )
    inlislite = {"database_url": mariadb.url(library.inlis)}
    server = BackendServer(
        tmp_path,
        members_csv=None,
        start=False,
        members={"source": "inlislite", "inlislite": inlislite},
    )
    synced = server.kiosk("members", "sync")
    assert "4 member(s): 4 added" in synced.stdout
    # gender_ids' default maps laki, laki_laki, male to 1 and perempuan, female to 2: the
    # guest form's own keys are kept; an id nothing maps to is not known.
    assert genders(server) == {
        "19004001": "laki_laki",
        "19004002": "perempuan",
        "19004003": None,
        "19004004": None,
    }
    library.inlis_sql("UPDATE members SET Sex_id = 2 WHERE MemberNo = '19004003'")
    again = server.kiosk("members", "sync")
    assert "4 member(s): 0 added, 1 updated, 3 unchanged" in again.stdout
    assert genders(server)["19004003"] == "perempuan"
