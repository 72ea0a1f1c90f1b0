"""uploads: resumable (tus) uploads from docks and the parts stored of each

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("device_serial", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("terminated_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('receiving', 'complete', 'terminated', 'expired')", name=op.f("ck_upload_state")
        ),
        sa.CheckConstraint(
            '0 <= "offset" AND "offset" <= length', name=op.f("ck_upload_offset_within_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload")),
    )
    op.create_index("ix_upload_device_serial", "upload", ["device_serial"], unique=False)
    # The expiry job's query: unfinished uploads by expiry.
    op.create_index(
        "ix_upload_expires_at_receiving",
        "upload",
        ["expires_at"],
        unique=False,
        sqlite_where=sa.text("state = 'receiving'"),
        postgresql_where=sa.text("state = 'receiving'"),
    )
    # One part per offset: the key decides between two requests that streamed to the same offset.
    op.create_table(
        "upload_part",
        sa.Column("upload_id", sa.String(length=40), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length > 0", name=op.f("ck_upload_part_length_positive")),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["upload.id"], name=op.f("fk_upload_part_upload_id_upload"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("upload_id", "offset", name=op.f("pk_upload_part")),
    )


def downgrade() -> None:
    op.drop_table("upload_part")
    op.drop_index("ix_upload_expires_at_receiving", table_name="upload")
    op.drop_index("ix_upload_device_serial", table_name="upload")
    op.drop_table("upload")
