"""The guestbook's field shapes and the library's default fields ([guestbook] and [guests])."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Section):
    """A user-facing text in both languages of the kiosk."""

    id: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.id


class Choice(_Section):
    key: str
    label: Text


class GuestbookField(_Section):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: Text
    kind: Literal["choice", "text", "number"] = "choice"
    required: bool = True
    choices: list[Choice] = Field(default_factory=list)
    max_length: int = Field(80, gt=0, le=500)


def default_fields() -> list[GuestbookField]:
    def field(key: str, id_: str, en: str, choices: list[tuple[str, str, str]]) -> GuestbookField:
        return GuestbookField(
            key=key,
            label=Text(id=id_, en=en),
            choices=[Choice(key=k, label=Text(id=i, en=e)) for k, i, e in choices],
        )

    return [
        field(
            "purpose",
            "Tujuan kunjungan",
            "Purpose of visit",
            [
                ("internet", "Internet", "Internet"),
                ("membaca", "Membaca", "Reading"),
                ("meminjam", "Meminjam / mengembalikan", "Borrow / return"),
                ("penelitian", "Penelitian", "Research"),
                ("lainnya", "Lainnya", "Other"),
            ],
        ),
        field(
            "occupation",
            "Pekerjaan",
            "Occupation",
            [
                ("pelajar", "Pelajar", "School student"),
                ("mahasiswa", "Mahasiswa", "University student"),
                ("pns", "PNS / TNI / Polri", "Civil servant / military / police"),
                ("swasta", "Swasta", "Private sector"),
                ("lainnya", "Lainnya", "Other"),
            ],
        ),
        field(
            "education",
            "Pendidikan terakhir",
            "Education",
            [
                ("sd", "SD", "Primary"),
                ("smp", "SMP", "Junior high"),
                ("sma", "SMA / SMK", "Senior high"),
                ("diploma", "D1-D4", "Diploma"),
                ("s1", "S1", "Bachelor"),
                ("s2", "S2 / S3", "Master / PhD"),
            ],
        ),
        GuestbookField(
            key="institution",
            label=Text(id="Instansi / sekolah", en="Institution / school"),
            kind="text",
            required=False,
        ),
    ]
