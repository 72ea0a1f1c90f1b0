"""taser: cameras told to record when a Taser is armed

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taser_record_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("reported_by", sa.String(length=60), nullable=False),
        sa.Column("taser_serial", sa.String(length=60), nullable=True),
        sa.Column("armed_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("camera_serial", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("commanded_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.Column("failure", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "source IN ('telemetry', 'device_log')", name=op.f("ck_taser_record_command_source")
        ),
        sa.CheckConstraint(
            "reason IN ('own_camera', 'within_radius')", name=op.f("ck_taser_record_command_reason")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_record_command")),
    )
    op.create_index(
        "uq_taser_record_command_arming",
        "taser_record_command",
        ["reported_by", "armed_at", "camera_serial"],
        unique=True,
    )
    op.create_index("ix_taser_record_command_armed", "taser_record_command", ["armed_at", "id"])
    op.create_index("ix_taser_record_command_taser", "taser_record_command", ["taser_serial", "armed_at"])
    op.create_index("ix_taser_record_command_camera", "taser_record_command", ["camera_serial", "armed_at"])


def downgrade() -> None:
    op.drop_index("ix_taser_record_command_camera", table_name="taser_record_command")
    op.drop_index("ix_taser_record_command_taser", table_name="taser_record_command")
    op.drop_index("ix_taser_record_command_armed", table_name="taser_record_command")
    op.drop_index("uq_taser_record_command_arming", table_name="taser_record_command")
    op.drop_table("taser_record_command")
