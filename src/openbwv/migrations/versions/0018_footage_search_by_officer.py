"""footage search: an officer's clips by category, so that a unit's (or a team's) clips of one
category in a time window are read officer by officer, without the other units' clips; and the
place index carrying each point's position, so that a search near a point keeps the points within
its radius off the index alone; deleted clips taken out of the place index

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DELETED = "deleted_at IS NULL"


def upgrade() -> None:
    # Deleted clips leave the place index (the retention job takes them out from now on).
    op.execute("DELETE FROM clip_place WHERE clip_id IN (SELECT id FROM clip WHERE deleted_at IS NOT NULL)")
    op.drop_index("ix_clip_place_cell", table_name="clip_place")
    op.create_index(
        "ix_clip_place_cell",
        "clip_place",
        ["cell", "recorded_at", "clip_id", "latitude", "longitude"],
        unique=False,
    )
    op.create_index(
        "ix_clip_officer_category",
        "clip",
        ["officer_id", "category_id", "recorded_at", "id"],
        unique=False,
        sqlite_where=sa.text(NOT_DELETED),
        postgresql_where=sa.text(NOT_DELETED),
    )


def downgrade() -> None:
    op.drop_index("ix_clip_officer_category", table_name="clip")
    op.drop_index("ix_clip_place_cell", table_name="clip_place")
    op.create_index("ix_clip_place_cell", "clip_place", ["cell", "recorded_at", "clip_id"], unique=False)
