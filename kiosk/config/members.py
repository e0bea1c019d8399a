"""The [members] settings: where members come from (local, SLiMS, INLISLite), where visits go."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _mysql_url(value: str) -> str:
    if value and not value.startswith("mysql+pymysql://"):
        raise ValueError("expected mysql+pymysql://USER:PASS@HOST:PORT/DB")
    return value


class SlimsSettings(_Section):
    database_url: str = ""
    record_visits: bool = False
    # mst_visitor_room.unique_code (SLiMS 9.6.0+); written only when the column exists.
    room_code: str = Field("", max_length=5)
    # The fact sheet's names; a library whose tables differ says so here.
    member_table: str = "member"
    visitor_table: str = "visitor_count"

    @field_validator("database_url")
    @classmethod
    def _pymysql_url(cls, value: str) -> str:
        return _mysql_url(value)


def _purpose_ids() -> dict[str, int]:
    # tujuan_kunjungan seed rows are unconfirmed: a library maps its own ids here.
    return {}


def _occupation_ids() -> dict[str, int]:
    # master_pekerjaan seed: 1 PNS, 4 Pegawai Swasta, 9 Pelajar, 10 Mahasiswa, 11 Lainnya.
    return {"pns": 1, "swasta": 4, "pelajar": 9, "mahasiswa": 10, "lainnya": 11}


def _education_ids() -> dict[str, int]:
    # master_pendidikan seed: 1 SD, 2 SMP, 3 SMA, 6 D3 (diploma), 7 S1, 8 S2.
    return {"sd": 1, "smp": 2, "sma": 3, "diploma": 6, "s1": 7, "s2": 8}


def _gender_ids() -> dict[str, int]:
    # jenis_kelamin: 1 Laki-laki, 2 Perempuan.
    return {"laki": 1, "laki_laki": 1, "male": 1, "perempuan": 2, "female": 2}


class InlisliteSettings(_Section):
    database_url: str = ""
    record_visits: bool = False
    location_id: int | None = None
    # Guestbook answer keys -> INLISLite master ids (unmapped answers are left NULL).
    purpose_ids: dict[str, int] = Field(default_factory=_purpose_ids)
    occupation_ids: dict[str, int] = Field(default_factory=_occupation_ids)
    education_ids: dict[str, int] = Field(default_factory=_education_ids)
    gender_ids: dict[str, int] = Field(default_factory=_gender_ids)
    # Which guestbook field holds each answer.
    purpose_field: str = "purpose"
    occupation_field: str = "occupation"
    education_field: str = "education"
    gender_field: str = "gender"
    # status_anggota id circulation treats as active (3 in both code bases).
    active_status_id: int = 3

    @field_validator("database_url")
    @classmethod
    def _pymysql_url(cls, value: str) -> str:
        return _mysql_url(value)


class MembersSettings(_Section):
    source: Literal["local", "slims", "inlislite"] = "local"
    # A live lookup waits this long for the library's database, then uses the local copy.
    lookup_timeout: float = Field(2.0, gt=0, le=30)
    # How often the write-back queue is drained (seconds).
    writeback_seconds: float = Field(2.0, gt=0)
    # Attempts before a visit the library's database keeps refusing is set aside for staff.
    writeback_attempts: int = Field(5, ge=1)
    # A member number typed on the keypad (not a card shown): "verify" masks the name and
    # asks the birth date before internet; "guestbook-only" records the visit, no internet;
    # "open" treats it as a card.
    typed_entry: Literal["verify", "guestbook-only", "open"] = "verify"
    slims: SlimsSettings = Field(default_factory=SlimsSettings)
    inlislite: InlisliteSettings = Field(default_factory=InlisliteSettings)

    def remote_url(self) -> str:
        """The library database's URL for the chosen source ('' for local)."""
        if self.source == "slims":
            return self.slims.database_url
        if self.source == "inlislite":
            return self.inlislite.database_url
        return ""

    def record_visits(self) -> bool:
        if self.source == "slims":
            return self.slims.record_visits
        if self.source == "inlislite":
            return self.inlislite.record_visits
        return False
