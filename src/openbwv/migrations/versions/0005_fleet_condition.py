"""fleet condition: when a Taser cartridge was discharged

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("taser_cartridge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discharged_at", openbwv.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("taser_cartridge", schema=None) as batch_op:
        batch_op.drop_column("discharged_at")
