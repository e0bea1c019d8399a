"""The steered settings' versions, and per kiosk its service state and the version it runs.

Revision ID: 0018
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
    )
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(
            sa.Column("in_service", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("settings_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("settings_version")
        batch.drop_column("in_service")
    op.drop_table("settings_versions")
