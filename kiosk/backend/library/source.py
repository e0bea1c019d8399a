"""Which library system the members come from: the SLiMS or INLISLite source [members] names."""

from __future__ import annotations

import datetime as dt

from kiosk.backend.library.gender import MemberGenders
from kiosk.backend.library.inlislite import InlisliteSource
from kiosk.backend.library.link import MemberSource, create_library_engine
from kiosk.backend.library.slims import SlimsSource
from kiosk.config.members import MembersSettings


def build_source(
    settings: MembersSettings, timezone: dt.tzinfo, genders: MemberGenders | None = None
) -> MemberSource | None:
    """The adapter for `[members] source` (None for `local`); `genders`: the guest form's
    gender keys the members' gender is kept as (library/gender.py member_genders)."""
    if settings.source == "local":
        return None
    url = settings.remote_url()
    if not url:
        raise ValueError(f"[members.{settings.source}] database_url is empty")
    engine = create_library_engine(url, settings.lookup_timeout)
    if settings.source == "slims":
        return SlimsSource(engine, settings.slims, timezone, genders)
    return InlisliteSource(engine, settings.inlislite, timezone, genders)
