"""fleet: which dock a camera last uploaded through, and when, so a dock lists the cameras it holds

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("docked_in_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("docked_at", openbwv.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_device_docked_in_id"), ["docked_in_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_device_docked_in_id_device"), "device", ["docked_in_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_device_docked_in_id_device"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_device_docked_in_id"))
        batch_op.drop_column("docked_at")
        batch_op.drop_column("docked_in_id")
