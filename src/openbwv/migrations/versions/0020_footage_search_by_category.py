"""footage search: a category's live clips in time order, carrying each clip's officer, so that a
unit's (or a team's) clips of one category in a time window are read newest first off one range of
one index, the officer tested there, instead of one look-up in an officer's index for each officer
of the unit (which 0018 added, and this drops)

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DELETED = "deleted_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_clip_category_recorded",
        "clip",
        # The expression keeps the retention job's queries (on ``category_id``) off this index; the
        # column itself at the end lets PostgreSQL answer from the index alone.
        [sa.text("coalesce(category_id, 0)"), "recorded_at", "id", "officer_id", "category_id"],
        unique=False,
        sqlite_where=sa.text(NOT_DELETED),
        postgresql_where=sa.text(NOT_DELETED),
    )
    op.drop_index("ix_clip_officer_category", table_name="clip")


def downgrade() -> None:
    op.create_index(
        "ix_clip_officer_category",
        "clip",
        ["officer_id", "category_id", "recorded_at", "id"],
        unique=False,
        sqlite_where=sa.text(NOT_DELETED),
        postgresql_where=sa.text(NOT_DELETED),
    )
    op.drop_index("ix_clip_category_recorded", table_name="clip")
