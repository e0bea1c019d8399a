"""The library's locations (room code, Location_Id, settings overrides) and where kiosks stand.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("room_code", sa.String(5), nullable=False, server_default=""),
        sa.Column("inlislite_location_id", sa.Integer(), nullable=True),
        sa.Column("overrides", sa.Text(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_table("locations")
