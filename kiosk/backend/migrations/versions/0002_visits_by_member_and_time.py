"""A member's latest visit (lookup's last_answers) by one index probe, not a sort.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_visits_member_occurred", "visits", ["member_id", "occurred_at"])
    op.drop_index("ix_visits_member_id", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_member_id", "visits", ["member_id"])
    op.drop_index("ix_visits_member_occurred", table_name="visits")
