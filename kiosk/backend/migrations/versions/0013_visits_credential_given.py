"""Visits say whether they came with a credential, so the purge's unlinking keeps the reports.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(
            sa.Column("credential_given", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE visits SET credential_given = (credential_id IS NOT NULL)")
    op.drop_index("ix_visits_day_credential", "visits")
    op.create_index(
        "ix_visits_day_credential",
        "visits",
        ["local_day", "kiosk_id", "credential_given", "credential_reused", "counted"],
    )


def downgrade() -> None:
    op.drop_index("ix_visits_day_credential", "visits")
    op.create_index(
        "ix_visits_day_credential",
        "visits",
        ["local_day", "kiosk_id", "credential_id", "credential_reused", "counted"],
    )
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("credential_given")
