"""Failed staff sign-ins counted per address and per name-and-address (no account lockout).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_failures",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name_digest", sa.String(64), nullable=True, index=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("staff_login_failures")
