"""live telemetry: each camera's latest state and the history of its positions

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reading_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("ts", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.Column("battery_pct", sa.Float(), nullable=False),
        sa.Column("storage_pct", sa.Float(), nullable=False),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("event", sa.String(length=30), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "live_camera_state",
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("received_at", openbwv.db.UTCDateTime(), nullable=False),
        *_reading_columns(),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_live_camera_state")),
    )
    op.create_index("ix_live_camera_state_ts", "live_camera_state", ["ts"])
    op.create_table(
        "live_position",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        *_reading_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_position")),
    )
    op.create_index("ix_live_position_serial_ts", "live_position", ["serial", "ts"])
    op.create_index("ix_live_position_ts", "live_position", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_live_position_ts", table_name="live_position")
    op.drop_index("ix_live_position_serial_ts", table_name="live_position")
    op.drop_table("live_position")
    op.drop_index("ix_live_camera_state_ts", table_name="live_camera_state")
    op.drop_table("live_camera_state")
