"""footage search: the index of live clips in time order carries each clip's officer, so that a place
search asking of each hit whether it is a clip of the caller's team (or of one officer) answers from
the index alone instead of reading the clip's row

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DELETED = "deleted_at IS NULL"


def _recreate(columns: list[str]) -> None:
    op.drop_index("ix_clip_recorded", table_name="clip")
    op.create_index(
        "ix_clip_recorded",
        "clip",
        columns,
        unique=False,
        sqlite_where=sa.text(NOT_DELETED),
        postgresql_where=sa.text(NOT_DELETED),
    )


def upgrade() -> None:
    _recreate(["recorded_at", "id", "officer_id"])


def downgrade() -> None:
    _recreate(["recorded_at", "id"])
