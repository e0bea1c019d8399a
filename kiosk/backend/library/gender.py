"""A member's gender as the guest form's choice keys, from a library system's column or a CSV cell
(SLiMS member.gender, INLISLite members.Sex_id, the members file's gender column)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.config import Settings
from kiosk.config.guestbook import GuestbookField
from kiosk.config.guests import default_guest_fields
from kiosk.config.members import InlisliteSettings

GENDER_FIELD = "gender"  # the guest form's field whose choice keys the members' column holds
# INLISLite's jenis_kelamin ids (1 Laki-laki, 2 Perempuan); SLiMS writes 1 male, 0 female.
MALE_ID, FEMALE_ID = 1, 2
SLIMS_MALE, SLIMS_FEMALE = 1, 0
# What a members file may write besides the choice keys themselves (lower case).
MALE_WORDS = frozenset({"l", "m", "laki-laki", "laki laki", "laki_laki", "laki", "pria", "male"})
FEMALE_WORDS = frozenset({"p", "f", "perempuan", "wanita", "female"})


@dataclass(frozen=True)
class MemberGenders:
    """The choice keys for a man and a woman, and INLISLite's Sex_id -> choice key (the
    reverse of [members.inlislite] gender_ids, kept to the guest form's choices)."""

    male: str = "laki_laki"
    female: str = "perempuan"
    by_sex_id: dict[int, str] = field(default_factory=dict)
    choices: frozenset[str] = frozenset({"laki_laki", "perempuan"})

    def from_slims(self, value: object) -> str | None:
        """SLiMS's member.gender: 1 a man, 0 a woman, anything else not known."""
        try:
            number = int(str(value))
        except ValueError:
            return None
        return {SLIMS_MALE: self.male, SLIMS_FEMALE: self.female}.get(number)

    def from_inlislite(self, sex_id: object) -> str | None:
        """INLISLite's members.Sex_id through gender_ids reversed (unmapped: not known)."""
        try:
            number = int(str(sex_id))
        except ValueError:
            return None
        return self.by_sex_id.get(number)

    def from_text(self, text: str) -> str | None:
        """A members file's cell: a choice key, L/P, M/F, laki-laki/perempuan; '' is not
        known; anything else raises ValueError."""
        word = text.strip().lower()
        if not word:
            return None
        if word in self.choices:
            return word
        if word in MALE_WORDS:
            return self.male
        if word in FEMALE_WORDS:
            return self.female
        raise ValueError(f"expected {', '.join(sorted(self.choices))}, L/P or M/F")


def genders_of(
    guest_fields: Sequence[GuestbookField], inlislite: InlisliteSettings
) -> MemberGenders:
    """The guest form's gender choices (the default form's when it asks none) and the
    INLISLite ids that [members.inlislite] gender_ids gives them."""
    asked = [f for f in guest_fields if f.key == GENDER_FIELD and f.kind == "choice"]
    if not asked:
        asked = [f for f in default_guest_fields() if f.key == GENDER_FIELD]
    choices = [c.key for c in asked[0].choices]
    by_sex_id: dict[int, str] = {}
    for key, sex_id in inlislite.gender_ids.items():
        if key in choices:
            by_sex_id.setdefault(sex_id, key)
    male = by_sex_id.get(MALE_ID) or next((c for c in choices if c in MALE_WORDS), "laki_laki")
    female = by_sex_id.get(FEMALE_ID) or next(
        (c for c in choices if c in FEMALE_WORDS), "perempuan"
    )
    return MemberGenders(male, female, by_sex_id, frozenset(choices))


def member_genders(settings: Settings) -> MemberGenders:
    return genders_of(settings.guests.fields, settings.members.inlislite)
