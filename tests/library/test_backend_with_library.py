"""End to end: the real backend with [members] source = slims / inlislite on a real MariaDB,
through the restricted account: live lookups, the local copy in an outage, visits written
back exactly once."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.backend_server import JAKARTA, BackendServer, checkin_body
from support.mariadb_server import Library, MariaDB

from kiosk.backend.db import create_db_engine, write_session
from kiosk.backend.steering.locations import Location, place_kiosk, save_location
from kiosk.config.steered import SteeredSettings


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)  # the drainer runs on its own clock: poll with a bound
    raise AssertionError(f"not true within {timeout} s")


def slims_backend(tmp_path: Path, library: Library, **members: Any) -> BackendServer:
    slims = {"database_url": library.server.url(library.slims), "record_visits": True}
    slims |= members.pop("slims", {})
    return BackendServer(
        tmp_path,
        members_csv=None,
        members={"source": "slims", "writeback_seconds": 0.2, "slims": slims, **members},
    )


def visitor_rows(library: Library) -> list[list[str]]:
    return library.slims_sql(
        "SELECT IFNULL(member_id,'NULL'), member_name, IFNULL(institution,'NULL'), "
        "IFNULL(room_code,'NULL'), checkin_date FROM visitor_count ORDER BY visitor_id"
    )


def test_slims_members_live_copy_in_outage_and_visits_written_once(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    with slims_backend(tmp_path, library, slims={"room_code": "LT1"}) as server:
        library.add_slims_member(
            "19000301", "Siti Rahayu", "2020-01-31", inst_name="SMAN 1", birth_date="2001-04-17"
        )
        answer = server.post("members/lookup", json={"card": "19000301"})
        assert answer.status_code == 200, answer.text
        member = answer.json()
        assert member["served_from"] == "library"
        assert member["member"]["name"] == "Siti Rahayu"
        assert member["member"]["status"] == "expired"

        library.slims_sql("UPDATE member SET expire_date = '2031-01-31' WHERE member_id='19000301'")
        member = server.post("members/lookup", json={"card": "19000301"}).json()
        assert (member["member"]["status"], member["member"]["expires_on"]) == (
            "active",
            "2031-01-31",
        )

        first = checkin_body("19000301", want_internet=False)
        assert server.post("visits", json=first).status_code == 201
        wait_for(lambda: len(visitor_rows(library)) == 1)
        row = visitor_rows(library)[0]
        assert row[:4] == ["19000301", "Siti Rahayu", "SMAN 1", "LT1"]
        assert server.post("visits", json=first).status_code == 200  # a replay

        mariadb.stop()
        try:
            member = server.post("members/lookup", json={"card": "19000301"}).json()
            assert member["served_from"] == "copy" and member["member"]["status"] == "active"
            never_seen = server.post("members/lookup", json={"card": "19000399"})
            assert never_seen.status_code == 503
            assert never_seen.json()["error"]["code"] == "library_unavailable"
            health = server.get("health").json()
            assert health["status"] == "degraded"
            assert "serving the local copy" in health["library"]
            queued = [checkin_body("19000301", want_internet=False) for _ in range(3)]
            start = dt.datetime.now(JAKARTA).replace(microsecond=0) - dt.timedelta(seconds=30)
            for index, body in enumerate(queued):  # seconds apart, in the past, in order
                body["occurred_at"] = (start + dt.timedelta(seconds=index)).isoformat()
                assert server.post("visits", json=body).status_code == 201
            waiting = wait_for(lambda: server.get("health").json()["writeback_waiting"] == 3)
            assert waiting
            server.stop()  # a backend restart while the library is down
            server.start()
            assert server.get("health").json()["writeback_waiting"] == 3
        finally:
            mariadb.start()
        # After the outage the drainer reconnects on its own clock; under a loaded machine
        # (both xdist workers busy) MariaDB's restart and that took over 20 s twice.
        wait_for(lambda: server.get("health").json()["writeback_waiting"] == 0, timeout=60)
        for body in [first, *queued]:
            assert server.post("visits", json=body).status_code == 200  # replays
        time.sleep(0.6)  # three drain rounds (writeback_seconds 0.2): nothing may come
        rows = visitor_rows(library)
        assert len(rows) == 4
        expected = [
            (start + dt.timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S") for n in range(3)
        ]
        assert [r[4] for r in rows[1:]] == expected  # in order, in the library's time zone
        assert server.get("health").json()["writeback_failed"] == 0

        guest = {
            "client_ref": str(uuid.uuid4()),
            "name": "Tamu Umum",
            "institution": "Universitas Terbuka",
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": first["occurred_at"],
        }
        assert server.post("guest-visits", json=guest).status_code == 201
        assert server.post("guest-visits", json=guest).status_code == 200
        wait_for(lambda: len(visitor_rows(library)) == 5)
        assert visitor_rows(library)[4][:3] == ["NULL", "Tamu Umum", "Universitas Terbuka"]


def test_repeat_inside_the_window_is_not_written_again(tmp_path: Path, mariadb: MariaDB) -> None:
    library = Library(mariadb)
    library.add_slims_member("19000302", "Budi", "2031-01-31")
    with BackendServer(
        tmp_path,
        members_csv=None,
        guestbook={"repeat_window_minutes": 60},
        members={
            "source": "slims",
            "writeback_seconds": 0.2,
            "slims": {"database_url": mariadb.url(library.slims), "record_visits": True},
        },
    ) as server:
        first = server.post("checkins", json=checkin_body("19000302"))
        assert first.status_code == 201
        again = server.post("checkins", json=checkin_body("19000302"))
        assert again.status_code == 201
        assert again.json()["credential"]["username"] == first.json()["credential"]["username"]
        # After the outage the drainer reconnects on its own clock; under a loaded machine
        # (both xdist workers busy) MariaDB's restart and that took over 20 s twice.
        wait_for(lambda: server.get("health").json()["writeback_waiting"] == 0, timeout=60)
        assert len(visitor_rows(library)) == 1
        assert server.get("stats/today").json()["visits"] == 1


def test_inlislite_visit_goes_to_memberguesses(tmp_path: Path, mariadb: MariaDB) -> None:
    library = Library(mariadb)
    library.inlis_sql(
        "INSERT INTO members (MemberNo, Fullname, EndDate, StatusAnggota_id) "
        "VALUES ('19000303', 'Agus Salim', '2031-01-31', 3), ('19000304', 'Rina', NULL, 5)"
    )
    inlis = {
        "database_url": mariadb.url(library.inlis),
        "record_visits": True,
        "location_id": 4,
    }
    with BackendServer(
        tmp_path,
        members_csv=None,
        members={"source": "inlislite", "writeback_seconds": 0.2, "inlislite": inlis},
    ) as server:
        blocked = server.post("members/lookup", json={"card": "19000304"}).json()
        assert blocked["member"]["status"] == "blocked"
        assert server.post("checkins", json=checkin_body("19000304")).status_code == 403
        assert server.post("visits", json=checkin_body("19000303")).status_code == 201
        # After the outage the drainer reconnects on its own clock; under a loaded machine
        # (both xdist workers busy) MariaDB's restart and that took over 20 s twice.
        wait_for(lambda: server.get("health").json()["writeback_waiting"] == 0, timeout=60)
        assert library.inlis_sql(
            "SELECT NoAnggota, Nama, Profesi_id, Location_Id FROM memberguesses"
        ) == [["19000303", "Agus Salim", "10", "4"]]


def test_inlislite_group_goes_to_groupguesses_once_with_its_people_per_gender(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    inlis = {
        "database_url": mariadb.url(library.inlis),
        "record_visits": True,
        "location_id": 4,
        "purpose_ids": {"membaca": 2},
    }
    moment = dt.datetime(2026, 11, 20, 9, 5, 7, tzinfo=JAKARTA).isoformat()
    group = {
        "client_ref": str(uuid.uuid4()),
        "name": "Ibu Guru",
        "institution": "SMA Negeri 1 Pangkalpinang",
        "kiosk_id": "kiosk-pintu-utama",
        "occurred_at": moment,
        "group_size": 12,
        "answers": {"purpose": "membaca", "count_laki_laki": 5, "count_perempuan": 7},
    }
    guest = dict(
        group,
        client_ref=str(uuid.uuid4()),
        name="Tamu Satu",
        institution="",
        group_size=1,
        answers={"purpose": "membaca", "gender": "laki_laki"},
    )
    with BackendServer(
        tmp_path,
        members_csv=None,
        members={"source": "inlislite", "writeback_seconds": 0.2, "inlislite": inlis},
    ) as server:
        assert server.post("guest-visits", json=group).status_code == 201
        assert server.post("guest-visits", json=group).status_code == 200  # a replay
        assert server.post("guest-visits", json=guest).status_code == 201
        wait_for(lambda: server.get("health").json()["writeback_waiting"] == 0, timeout=60)
        assert library.inlis_sql(
            "SELECT NamaKetua, AsalInstansi, CountPersonel, CountLaki, CountPerempuan, "
            "TujuanKunjungan_ID, Location_ID, CreateDate, CountTk FROM groupguesses"
        ) == [
            [
                "Ibu Guru",
                "SMA Negeri 1 Pangkalpinang",
                "12",
                "5",
                "7",
                "2",
                "4",
                "2026-11-20 09:05:07",
                "0",
            ]
        ]
        # The guest alone is a memberguesses row, with its gender mapped.
        assert library.inlis_sql(
            "SELECT IFNULL(NoAnggota,'NULL'), Nama, JenisKelamin_id FROM memberguesses"
        ) == [["NULL", "Tamu Satu", "1"]]


def test_members_sync_copies_every_member_and_reports_counts(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    for n in range(7):
        library.add_slims_member(f"19001{n:03d}", f"Anggota {n}", "2031-01-31", is_pending=n % 2)
    server = BackendServer(
        tmp_path,
        members_csv=None,
        start=False,
        members={"source": "slims", "slims": {"database_url": mariadb.url(library.slims)}},
    )
    first = server.kiosk("members", "sync")
    assert "7 member(s): 7 added, 0 updated, 0 unchanged" in first.stdout
    library.slims_sql("UPDATE member SET member_name = 'Anggota Baru' WHERE member_id='19001003'")
    again = server.kiosk("members", "sync")
    assert "7 member(s): 0 added, 1 updated, 6 unchanged" in again.stdout
    backlog = server.kiosk("members", "writeback")
    assert "0 waiting" in backlog.stdout and "0 set aside" in backlog.stdout
    mariadb.stop()
    try:
        refused = server.kiosk("members", "sync", check=False)
        assert refused.returncode == 1 and "slims database" in refused.stderr
        server.start()
        answer = server.post("members/lookup", json={"card": "19001001"}).json()
        assert answer["served_from"] == "copy" and answer["member"]["status"] == "blocked"
    finally:
        server.stop()
        mariadb.start()


def test_zero_dated_members_at_the_desk_and_in_a_sync(tmp_path: Path, mariadb: MariaDB) -> None:
    library = Library(mariadb)
    library.add_slims_member("19002001", "Siti Rahayu", "2031-01-31")
    library.add_slims_ldap_member("19002002", "Anggota LDAP")  # expire_date '0000-00-00'
    library.add_slims_member("19002003", "Dewi", "0000-00-00", birth_date="0000-00-00")
    library.add_slims_member("", "Tanpa Nomor", "2031-01-31")
    library.add_slims_member("19002004", "Budi", "2031-01-31")
    with slims_backend(tmp_path, library) as server:
        ldap = server.post("members/lookup", json={"card": "19002002"})
        assert ldap.status_code == 200, ldap.text
        assert ldap.json()["member"]["status"] == "blocked"  # pending, as SLiMS makes them
        dewi = server.post("members/lookup", json={"card": "19002003"})
        assert dewi.status_code == 200, dewi.text
        assert dewi.json()["member"]["status"] == "expired"
        synced = server.kiosk("members", "sync")
    assert "4 member(s): 2 added, 0 updated, 2 unchanged, 1 left out" in synced.stdout
    assert "left out: member '': no member number" in synced.stdout
    with slims_backend(tmp_path, library) as server:
        mariadb.stop()
        try:
            for card, status in (("19002001", "active"), ("19002004", "active")):
                answer = server.post("members/lookup", json={"card": card}).json()
                assert (answer["served_from"], answer["member"]["status"]) == ("copy", status)
        finally:
            mariadb.start()


def test_health_turns_ok_when_a_write_back_reaches_the_library(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19002101", "Rina Wati", "2031-01-31")
    with slims_backend(tmp_path, library) as server:
        assert server.post("members/lookup", json={"card": "19002101"}).status_code == 200
        mariadb.stop()
        try:
            server.post("members/lookup", json={"card": "19002101"})
            body = checkin_body("19002101", want_internet=False)
            assert server.post("visits", json=body).status_code == 201
            assert "unavailable" in server.get("health").json()["library"]
        finally:
            mariadb.start()
        wait_for(lambda: len(visitor_rows(library)) == 1, timeout=60)
        # No lookup since: the write-back alone is the contact /health follows.
        wait_for(lambda: server.get("health").json()["library"] == "slims: ok")
        assert server.get("health").json()["status"] == "ok"


def test_guest_text_slims_cannot_hold_is_written_and_the_queue_goes_on(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19002201", "Budi", "2031-01-31")
    with slims_backend(tmp_path, library) as server:
        guest = {
            "client_ref": str(uuid.uuid4()),
            "name": "Putri 🌸",
            "institution": "𝓤𝓷𝓲𝓿𝓮𝓻𝓼𝓲𝓽𝓪𝓼 Terbuka",
            "kiosk_id": "kiosk-pintu-utama",
            "occurred_at": dt.datetime.now(JAKARTA).isoformat(),
        }
        assert server.post("guest-visits", json=guest).status_code == 201
        assert server.post("visits", json=checkin_body("19002201")).status_code == 201
        wait_for(lambda: len(visitor_rows(library)) == 2, timeout=60)
        assert [row[:3] for row in visitor_rows(library)] == [
            ["NULL", "Putri ?", "Universitas Terbuka"],
            ["19002201", "Budi", "NULL"],
        ]
        health = server.get("health").json()
        assert (health["writeback_waiting"], health["writeback_failed"]) == (0, 0)


def test_a_frozen_library_costs_a_lookup_no_more_than_lookup_timeout(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19002301", "Rina Wati", "2031-01-31")
    timeout = 1.5
    with slims_backend(tmp_path, library, lookup_timeout=timeout) as server:
        assert server.post("members/lookup", json={"card": "19002301"}).status_code == 200
        mariadb.freeze()  # hangs: the kernel still accepts connections, nothing answers
        try:
            asked = time.monotonic()
            answer = server.post("members/lookup", json={"card": "19002301"})
            took = time.monotonic() - asked
        finally:
            mariadb.thaw()
    assert answer.json()["served_from"] == "copy"
    # A bound, not a speed: each of ping, reconnect and query may take lookup_timeout on
    # its own; the whole lookup may not (before: ping + reconnect = 2 x lookup_timeout).
    assert took < 2 * timeout, f"the copy answered after {took:.1f} s"


def test_health_turns_ok_when_a_members_sync_reaches_the_library(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19002401", "Rina Wati", "2031-01-31")
    with slims_backend(tmp_path, library, slims={"record_visits": False}) as server:
        assert server.post("members/lookup", json={"card": "19002401"}).status_code == 200
        mariadb.stop()
        try:
            server.post("members/lookup", json={"card": "19002401"})
            assert "unavailable" in server.get("health").json()["library"]
        finally:
            mariadb.start()
        synced = server.kiosk("members", "sync")  # its own process, as from cron
        assert "1 member(s)" in synced.stdout
        assert server.get("health").json()["library"] == "slims: ok"  # no lookup since


def place_in_location(server: BackendServer, kiosk_id: str, location: Location) -> None:
    """What Pengaturan's Lokasi form and the Kios page's Pindahkan do, in the server's file."""
    engine = create_db_engine(f"sqlite:///{server.database_path}", pool_size=1)
    try:
        with write_session(engine) as session:
            save_location(session, location, SteeredSettings())
            place_kiosk(session, kiosk_id, location.code)
    finally:
        engine.dispose()


def test_a_locations_room_code_reaches_slims_and_other_kiosks_keep_the_global_one(
    tmp_path: Path, mariadb: MariaDB
) -> None:
    library = Library(mariadb)
    library.add_slims_member("19000305", "Dewi Lestari", "2031-01-31")
    with slims_backend(tmp_path, library, slims={"room_code": "LT1"}) as server:
        place_in_location(server, "kiosk-anak", Location("ruang-anak", "Ruang Anak", "RA2"))
        at_children = checkin_body("19000305", want_internet=False, kiosk_id="kiosk-anak")
        assert server.post("visits", json=at_children).status_code == 201
        wait_for(lambda: len(visitor_rows(library)) == 1)
        entrance = checkin_body("19000305", want_internet=False)
        entrance["occurred_at"] = (  # another second (a future time would be taken as now)
            dt.datetime.fromisoformat(at_children["occurred_at"]) - dt.timedelta(seconds=5)
        ).isoformat()
        assert server.post("visits", json=entrance).status_code == 201
        wait_for(lambda: len(visitor_rows(library)) == 2)
        assert [row[3] for row in visitor_rows(library)] == ["RA2", "LT1"]


def test_a_locations_location_id_reaches_inlislite(tmp_path: Path, mariadb: MariaDB) -> None:
    library = Library(mariadb)
    library.inlis_sql(
        "INSERT INTO members (MemberNo, Fullname, EndDate, StatusAnggota_id) "
        "VALUES ('19000306', 'Hendra', '2031-01-31', 3)"
    )
    inlis = {"database_url": mariadb.url(library.inlis), "record_visits": True, "location_id": 4}
    with BackendServer(
        tmp_path,
        members_csv=None,
        members={"source": "inlislite", "writeback_seconds": 0.2, "inlislite": inlis},
    ) as server:
        place_in_location(server, "kiosk-cabang", Location("cabang", "Cabang Timur", "", 7))
        body = checkin_body("19000306", want_internet=False, kiosk_id="kiosk-cabang")
        assert server.post("visits", json=body).status_code == 201
        wait_for(lambda: server.get("health").json()["writeback_waiting"] == 0, timeout=60)
        rows = library.inlis_sql("SELECT NoAnggota, Location_Id FROM memberguesses")
        assert rows == [["19000306", "7"]]
