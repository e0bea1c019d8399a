"""Members keep their gender (the guest form's choice key) from the library system or the file;
visits are indexed by member and day, so the reports count members by gender.

Revision ID: 0020
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("gender", sa.String(32), nullable=True))
    op.create_index(
        "ix_visits_member_day", "visits", ["member_id", "local_day", "counted", "kiosk_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_visits_member_day", "visits")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("gender")
