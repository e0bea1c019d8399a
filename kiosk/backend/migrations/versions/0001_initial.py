"""Members, credentials and visits (the guestbook).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("institution", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "member_id",
            sa.String(64),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password", sa.String(128), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_credentials_member_id", "credentials", ["member_id"])
    op.create_index("ix_credentials_username", "credentials", ["username"])
    op.create_index("ix_credentials_issued_at", "credentials", ["issued_at"])
    op.create_index("ix_credentials_expires_at", "credentials", ["expires_at"])
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("want_internet", sa.Boolean(), nullable=False),
        sa.Column(
            "credential_id",
            sa.Integer(),
            sa.ForeignKey("credentials.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("credential_reused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
    )
    op.create_index("ix_visits_member_id", "visits", ["member_id"])
    op.create_index("ix_visits_occurred_at", "visits", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("credentials")
    op.drop_table("members")
