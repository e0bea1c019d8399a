"""The public's satisfaction survey (SKM, PermenPANRB 14/2017): anonymous answers by day; an
index for the reports' internet counts.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        # The library's calendar day only: an exact time could tell who answered.
        sa.Column("local_day", sa.Date(), nullable=False),
        *(sa.Column(f"u{n}", sa.SmallInteger(), nullable=True) for n in range(1, 10)),
        sa.Column("occupation", sa.String(80), nullable=True),
        sa.Column("education", sa.String(80), nullable=True),
        sa.Column("gender", sa.String(80), nullable=True),
        sa.Column("request_digest", sa.String(64), nullable=False),
    )
    op.create_index("ix_satisfaction_local_day", "satisfaction", ["local_day"])
    # The Dinas report's internet counts, from an index instead of every visit's row.
    op.create_index(
        "ix_visits_day_credential",
        "visits",
        ["local_day", "kiosk_id", "credential_id", "credential_reused", "counted"],
    )


def downgrade() -> None:
    op.drop_index("ix_visits_day_credential", "visits")
    op.drop_index("ix_satisfaction_local_day", "satisfaction")
    op.drop_table("satisfaction")
