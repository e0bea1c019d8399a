"""The [guests] settings: what a non-member or a group writes, and their internet."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.config.guestbook import Choice, GuestbookField, Text, default_fields


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def default_guest_fields() -> list[GuestbookField]:
    """The member fields (purpose, occupation, education; the institution is asked on its
    own screen) and gender, which INLISLite's guest book counts."""
    fields = [f for f in default_fields() if f.key != "institution"]
    gender = GuestbookField(
        key="gender",
        label=Text(id="Jenis kelamin", en="Gender"),
        choices=[
            Choice(key="laki_laki", label=Text(id="Laki-laki", en="Male")),
            Choice(key="perempuan", label=Text(id="Perempuan", en="Female")),
        ],
    )
    return [*fields, gender]


class GuestSettings(_Section):
    fields: list[GuestbookField] = Field(default_factory=default_guest_fields)
    # "none": guests get no internet (the thanks screen sends them to the desk);
    # "voucher": a credential of voucher_hours, at most vouchers_per_day per kiosk per day.
    internet: Literal["none", "voucher"] = "none"
    voucher_hours: float = Field(2.0, gt=0, le=24)
    vouchers_per_day: int = Field(50, ge=0, le=100_000)
    # A group's leader also gives how many men and women came (INLISLite keeps both).
    group_gender_counts: bool = False
    max_group_size: int = Field(500, ge=1, le=500)

    @field_validator("fields")
    @classmethod
    def _unique_keys(cls, fields: list[GuestbookField]) -> list[GuestbookField]:
        keys = [f.key for f in fields]
        if len(keys) != len(set(keys)):
            raise ValueError(f"field keys must be unique, got {keys}")
        for f in fields:
            if f.kind == "choice" and not f.choices:
                raise ValueError(f"field {f.key!r} is a choice with no choices")
            if f.key in ("name", "institution", "group_size"):
                raise ValueError(f"field {f.key!r} is asked on its own guest screen")
        return fields
