"""A throwaway MariaDB (Debian's mariadb-server) in a temp dir on a free loopback port, run as
the `mysql` account, with SLiMS 9 and INLISLite 3 tables as ../shared/LIBRARY-SYSTEMS.md
describes them and a kiosk account holding exactly the grants in docs/library-systems.md."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from kiosk.ports import free_port

KIOSK_USER = "kiosk"
KIOSK_PASSWORD = "kiosk-test-pass"
_names = itertools.count(1)

# SLiMS core tables: MyISAM, utf8 (mb3) as senayan.sql creates them.
SLIMS_TABLES = """
CREATE TABLE member (
  member_id varchar(20) NOT NULL, member_name varchar(100) NOT NULL,
  gender int(1) NOT NULL DEFAULT 1, birth_date date NULL, member_type_id int(6) NULL,
  member_address varchar(255) NULL, member_email varchar(100) NULL,
  inst_name varchar(100) NULL, is_new int(1) NULL, member_phone varchar(50) NULL,
  member_since_date date NULL, register_date date NULL, expire_date date NOT NULL,
  member_notes text NULL, is_pending smallint(1) NOT NULL DEFAULT 0,
  input_date date NULL, last_update date NULL, PRIMARY KEY (member_id)
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci;
CREATE TABLE visitor_count (
  visitor_id int(11) NOT NULL AUTO_INCREMENT, member_id varchar(20) NULL,
  member_name varchar(255) NOT NULL, institution varchar(100) NULL,
  {room}checkin_date datetime NOT NULL,
  PRIMARY KEY (visitor_id), KEY member_id (member_id){room_key}
) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci;
"""

# INLISLite: the official updater's InnoDB latin1 tables; members -> status_anggota is a FK.
INLISLITE_TABLES = """
CREATE TABLE status_anggota (id int NOT NULL, Nama varchar(30), PRIMARY KEY (id))
  ENGINE=InnoDB DEFAULT CHARSET=latin1;
INSERT INTO status_anggota VALUES (1,'Baru'),(2,'Tidak aktif'),(3,'Aktif'),(4,'Ditangguhkan'),
  (5,'Diskors'),(6,'Bebas Pustaka');
CREATE TABLE members (
  ID double NOT NULL AUTO_INCREMENT, MemberNo varchar(50) NOT NULL, Fullname varchar(255) NOT NULL,
  PlaceOfBirth varchar(255) NULL, DateOfBirth date NULL, Sex_id int NULL, Job_id int NULL,
  EducationLevel_id int NULL, Address varchar(255) NULL, InstitutionName varchar(255) NULL,
  RegisterDate date NULL, EndDate date NULL, StatusAnggota_id int NULL,
  PRIMARY KEY (ID), UNIQUE KEY (MemberNo),
  FOREIGN KEY (StatusAnggota_id) REFERENCES status_anggota (id)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE memberguesses (
  ID int NOT NULL AUTO_INCREMENT, NoAnggota varchar(50) NULL, Nama varchar(100) NOT NULL,
  Status_id int NULL, MasaBerlaku_id int NULL, Profesi_id int NULL,
  PendidikanTerakhir_id int NULL, JenisKelamin_id int NULL, Alamat varchar(255) NULL,
  Deskripsi varchar(255) NULL, Information varchar(255) NULL, LOCATIONLOANS_ID int NULL,
  Location_Id int NULL, TujuanKunjungan_Id int NULL, NoPengunjung varchar(50) NULL,
  CreateBy int NULL, CreateDate datetime NULL, CreateTerminal varchar(100) NULL,
  UpdateBy int NULL, UpdateDate datetime NULL, UpdateTerminal varchar(100) NULL,
  PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE groupguesses (
  ID int NOT NULL AUTO_INCREMENT, NamaKetua varchar(255) NOT NULL,
  NomerTelponKetua varchar(20) NULL, AsalInstansi varchar(255) NOT NULL,
  AlamatInstansi varchar(255) NOT NULL, TeleponInstansi varchar(20) NULL,
  EmailInstansi varchar(255) NULL, CountPersonel int NULL, CountPNS int NULL,
  CountPSwasta int NULL, CountPeneliti int NULL, CountGuru int NULL, CountDosen int NULL,
  CountPensiunan int NULL, CountTNI int NULL, CountWiraswasta int NULL, CountPelajar int NULL,
  CountMahasiswa int NULL, CountLainnya int NULL, CountSD int NULL, CountSMP int NULL,
  CountSMA int NULL, CountD1 int NULL, CountD2 int NULL, CountD3 int NULL, CountS1 int NULL,
  CountS2 int NULL, CountS3 int NULL, CountLaki int NULL, CountPerempuan int NULL,
  CountTk int NOT NULL DEFAULT 0, TujuanKunjungan_ID int NULL, LocationLoans_ID int NULL,
  Location_ID int NULL, NoPengunjung varchar(50) NULL, Information varchar(255) NULL,
  CreateBy int NULL, CreateDate datetime NULL, CreateTerminal varchar(100) NULL,
  UpdateBy int NULL, UpdateDate datetime NULL, UpdateTerminal varchar(100) NULL,
  PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
"""

# Exactly the GRANT lines of docs/library-systems.md (for each of the kiosk's two host names).
GRANTS = """
GRANT SELECT ON {slims}.member TO {who};
GRANT SELECT, INSERT ON {slims}.visitor_count TO {who};
GRANT SELECT ON {inlis}.members TO {who};
GRANT SELECT, INSERT ON {inlis}.memberguesses TO {who};
GRANT SELECT, INSERT ON {inlis}.groupguesses TO {who};
"""


class MariaDB:
    """One mariadbd; `stop()` (SIGTERM) and `start()` again on the same data and port."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="kiosk-mariadb-"))
        self.data = self.base / "data"
        self.run_dir = self.base / "run"
        self.socket = self.run_dir / "mysql.sock"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.run_dir.mkdir()
        for path in (self.base, self.run_dir):
            shutil.chown(path, "mysql", "mysql")
        subprocess.run(
            [
                "mariadb-install-db",
                f"--datadir={self.data}",
                "--user=mysql",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.data}",
                "--user=mysql",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={self.run_dir / 'mysql.pid'}",
                f"--log-error={self.run_dir / 'mysql.err'}",
                "--skip-name-resolve",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {self.error_log()}")
            if self.sql("SELECT 1", check=False).returncode == 0:
                return
            time.sleep(0.1)  # a server starting: poll with a bound
        raise RuntimeError(f"mariadbd did not answer in 90 s: {self.error_log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)

    def error_log(self) -> str:
        log = self.run_dir / "mysql.err"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def sql(
        self, statements: str, *, database: str = "", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = ["mariadb", f"--socket={self.socket}", "-uroot", "--batch", "--skip-column-names"]
        if database:
            command.append(database)
        result = subprocess.run(
            command, input=statements, capture_output=True, text=True, timeout=60, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"mariadb: {result.stderr.strip()}")
        return result

    def url(self, database: str) -> str:
        return f"mysql+pymysql://{KIOSK_USER}:{KIOSK_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_library(self, slims: str, inlis: str, *, room_code: bool = True) -> None:
        """A SLiMS and an INLISLite database, and the kiosk account's grants on both."""
        room = "room_code varchar(5) NULL, " if room_code else ""
        room_key = ", KEY room_code (room_code)" if room_code else ""
        self.sql(
            f"CREATE DATABASE {slims} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            f"CREATE DATABASE {inlis} CHARACTER SET latin1;"
        )
        self.sql(SLIMS_TABLES.format(room=room, room_key=room_key), database=slims)
        self.sql(INLISLITE_TABLES, database=inlis)
        for host in ("127.0.0.1", "localhost"):
            who = f"'{KIOSK_USER}'@'{host}'"
            self.sql(f"CREATE USER IF NOT EXISTS {who} IDENTIFIED BY '{KIOSK_PASSWORD}';")
            self.sql(GRANTS.format(slims=slims, inlis=inlis, who=who))

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class Library:
    """A fresh SLiMS and INLISLite database pair for one test."""

    def __init__(self, server: MariaDB, *, room_code: bool = True) -> None:
        n = next(_names)
        self.server = server
        self.slims = f"slims_{n}"
        self.inlis = f"inlis_{n}"
        server.create_library(self.slims, self.inlis, room_code=room_code)

    def slims_sql(self, statements: str) -> list[list[str]]:
        return _rows(self.server.sql(statements, database=self.slims).stdout)

    def inlis_sql(self, statements: str) -> list[list[str]]:
        return _rows(self.server.sql(statements, database=self.inlis).stdout)


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line]
