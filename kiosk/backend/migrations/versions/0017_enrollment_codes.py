"""One-time enrollment codes, and the location a kiosk was enrolled for.

Revision ID: 0017
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrollment_codes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False, index=True),
        sa.Column("location", sa.String(32), nullable=False),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("location", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("location")
    op.drop_table("enrollment_codes")
