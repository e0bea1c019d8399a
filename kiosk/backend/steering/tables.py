"""Tables of the steered settings: the document's versions and the library's locations."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.backend.db import Base, UTCDateTime


class SettingsVersionRow(Base):
    """One version of the steered settings document (kiosk.config.steered); never changed,
    a restore makes a new one. Version 0 is config.toml's, stored on the first start."""

    __tablename__ = "settings_versions"

    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(sa.Text)
    username: Mapped[str] = mapped_column(sa.String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(sa.String(500))


class LocationRow(Base):
    """A reading room or branch: its SLiMS room code, INLISLite Location_Id, and the keys of
    the settings document it sets differently (merged over the library's)."""

    __tablename__ = "locations"

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    room_code: Mapped[str] = mapped_column(sa.String(5), default="")
    inlislite_location_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    overrides: Mapped[str] = mapped_column(sa.Text, default="{}")
