"""Library systems: members' birth date, repeat visits kept but not counted, the write-back queue.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("birth_date", sa.Date(), nullable=True))
    op.add_column(
        "visits", sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_table(
        "library_writeback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("written_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_library_writeback_state_id", "library_writeback", ["state", "id"])


def downgrade() -> None:
    op.drop_table("library_writeback")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("counted")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("birth_date")
