"""fleet: movements by who made them, for the counter's list of today's transactions

A device's new "lost" and "stolen" states need no change here: ``device.state`` is a plain string.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_movement", schema=None) as batch_op:
        batch_op.create_index("ix_device_movement_actor", ["actor_username", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("device_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_device_movement_actor")
