"""Tables of the staff console: accounts, sessions and the audit log."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.backend.db import Base, UTCDateTime


class StaffAccountRow(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(16))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_login: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSessionRow(Base):
    """A signed-in browser; the cookie holds a secret whose SHA-256 is `id`."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str] = mapped_column(sa.String(64))


class StaffLoginFailureRow(Base):
    """Wrong sign-ins of one address, or of one name from one address, in a 15-minute
    window. Keys are SHA-256 digests: a mistyped name is never stored."""

    __tablename__ = "staff_login_failures"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name_digest: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    failures: Mapped[int] = mapped_column(sa.Integer)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class MemberUploadRow(Base):
    """A member file checked (previewed) in the console and not yet imported: the import
    reads it from here, not from a form field. One per account, gone after an hour."""

    __tablename__ = "member_uploads"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class AuditRow(Base):
    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str] = mapped_column(sa.String(500))
