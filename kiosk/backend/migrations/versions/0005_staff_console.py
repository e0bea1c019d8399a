"""Staff console: accounts, sessions, audit log, registered kiosks and their heartbeat,
and report columns (a visit's local day and hour, its answers one per row) with indexes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Existing visits are filled in with the default zone; new ones use [backend] timezone.
BACKFILL_ZONE = ZoneInfo("Asia/Jakarta")


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_staff_sessions_account_id", "staff_sessions", ["account_id"])
    op.create_index("ix_staff_sessions_last_seen", "staff_sessions", ["last_seen"])
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_contact", sa.DateTime(), nullable=True),
        sa.Column("outbox_depth", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("dead_letters", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("camera", sa.String(32), nullable=False, server_default="unknown"),
        sa.Column("version", sa.String(32), nullable=False, server_default=""),
    )
    op.add_column("visits", sa.Column("local_day", sa.Date(), nullable=True))
    op.add_column("visits", sa.Column("local_hour", sa.SmallInteger(), nullable=True))
    op.create_table(
        "visit_answers",
        sa.Column(
            "visit_id",
            sa.Integer(),
            sa.ForeignKey("visits.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("field", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(80), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
    )
    _backfill()
    op.create_index("ix_visit_answers_field_day", "visit_answers", ["field", "local_day", "value"])
    op.create_index(
        "ix_visits_local_day", "visits", ["local_day", "local_hour", "kiosk_id", "counted"]
    )


def _backfill() -> None:
    connection = op.get_bind()
    # Repeats inside the repeat window (counted false) stay out of the report rows.
    rows = connection.execute(
        sa.text("SELECT id, occurred_at, answers FROM visits WHERE counted")
    ).all()
    for visit_id, occurred_at, answers in rows:
        moment = occurred_at
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        local = moment.replace(tzinfo=dt.UTC).astimezone(BACKFILL_ZONE)
        connection.execute(
            sa.text("UPDATE visits SET local_day = :day, local_hour = :hour WHERE id = :id"),
            {"day": local.date(), "hour": local.hour, "id": visit_id},
        )
        for field, value in (json.loads(answers or "{}") or {}).items():
            if value is None or value == "":
                continue
            connection.execute(
                sa.text(
                    "INSERT INTO visit_answers (visit_id, field, value, local_day) "
                    "VALUES (:id, :field, :value, :day)"
                ),
                {
                    "id": visit_id,
                    "field": field[:32],
                    "value": str(value)[:80],
                    "day": local.date(),
                },
            )


def downgrade() -> None:
    op.drop_index("ix_visits_local_day", table_name="visits")
    op.drop_table("visit_answers")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("local_hour")
        batch.drop_column("local_day")
    for table in ("kiosks", "staff_audit", "staff_sessions", "staff_accounts"):
        op.drop_table(table)
