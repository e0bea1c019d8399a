"""A throwaway MariaDB (Debian's mariadb-server) in a temp dir on a free loopback port, run as
the `mysql` account, with SLiMS 9's own schema (../shared/testdata/slims/), INLISLite 3 tables
as ../shared/LIBRARY-SYSTEMS.md describes them and a kiosk account holding exactly the README's
grants."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from kiosk.ports import free_port

KIOSK_USER = "kiosk"
KIOSK_PASSWORD = "kiosk-test-pass"
_names = itertools.count(1)

# SLiMS 9's own schema: the CREATE TABLE statements of a fresh install (61 MyISAM utf8mb3
# tables; visitor_count with room_code, 9.6.0+), kept beside the repository, never copied in.
SLIMS9_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "testdata"
    / "slims"
    / "slims9-install.sql"
)

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
        """A SLiMS database as its installer makes it (utf8mb4_bin, then its own tables; without
        room_code as before 9.6.0), an INLISLite one, and the kiosk account's grants on both."""
        self.sql(
            f"CREATE DATABASE {slims} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            f"CREATE DATABASE {inlis} CHARACTER SET latin1;"
        )
        self.sql(slims9_schema(), database=slims)
        if not room_code:
            self.sql(
                "ALTER TABLE visitor_count DROP KEY room_code, DROP COLUMN room_code;",
                database=slims,
            )
        self.sql(INLISLITE_TABLES, database=inlis)
        for host in ("127.0.0.1", "localhost"):
            who = f"'{KIOSK_USER}'@'{host}'"
            self.sql(f"CREATE USER IF NOT EXISTS {who} IDENTIFIED BY '{KIOSK_PASSWORD}';")
            self.sql(GRANTS.format(slims=slims, inlis=inlis, who=who))

    def freeze(self) -> None:
        """SIGSTOP: the server hangs (connections accepted by the kernel, never answered)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

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

    def add_slims_member(
        self,
        member_id: str,
        name: str,
        expire_date: str,
        *,
        birth_date: str | None = None,
        inst_name: str = "",
        is_pending: int = 0,
        gender: int = 1,
    ) -> None:
        """A member as SLiMS's membership form inserts one (admin/modules/membership): empty
        text fields as '', no birth date as NULL, today's input and update dates; gender 1 a
        man, 0 a woman."""
        self.slims_sql(
            "INSERT INTO member (member_id, member_name, member_type_id, inst_name, gender, "
            "birth_date, register_date, member_since_date, expire_date, pin, member_address, "
            "member_mail_address, member_phone, member_fax, postal_code, member_notes, "
            "member_email, is_pending, input_date, last_update) VALUES "
            f"({_quoted(member_id)}, {_quoted(name)}, 1, {_quoted(inst_name)}, {gender}, "
            f"{_quoted(birth_date)}, CURDATE(), CURDATE(), {_quoted(expire_date)}, '', '', '', "
            f"'', '', '', '', '', {is_pending}, CURDATE(), CURDATE())"
        )

    def add_slims_ldap_member(self, member_id: str, name: str) -> None:
        """A member as SLiMS's LDAP login creates one (lib/Auth/Methods/Ldap.php): zero
        expiry and register dates, pending."""
        self.slims_sql(
            "INSERT INTO member (member_id, member_name, gender, inst_name, member_email, "
            "expire_date, register_date, is_pending, member_type_id, input_date, last_update) "
            f"VALUES ({_quoted(member_id)}, {_quoted(name)}, '1', 'New registered member', "
            "'', '0000-00-00', '0000-00-00', '1', '1', NOW(), NOW())"
        )

    def inlis_sql(self, statements: str) -> list[list[str]]:
        return _rows(self.server.sql(statements, database=self.inlis).stdout)


def slims9_schema() -> str:
    """SLiMS 9's install SQL; absent on a developer machine without ../shared: skip, but
    under CI=true that is a failure."""
    if not SLIMS9_SCHEMA.is_file():
        message = f"SLiMS 9 schema not found at {SLIMS9_SCHEMA} (clone with shared/ beside it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SLIMS9_SCHEMA.read_text(encoding="utf-8")


def _quoted(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line]
