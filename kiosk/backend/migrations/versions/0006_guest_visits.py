"""Guest and group visits (POST /guest-visits), with their Wi-Fi vouchers.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guest_visits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("institution", sa.String(80), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("want_internet", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("password", sa.String(128), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
    )
    op.create_index("ix_guest_visits_occurred_at", "guest_visits", ["occurred_at"])
    op.create_index("ix_guest_visits_username", "guest_visits", ["username"])
    op.create_index("ix_guest_visits_kiosk_received", "guest_visits", ["kiosk_id", "received_at"])


def downgrade() -> None:
    op.drop_table("guest_visits")
