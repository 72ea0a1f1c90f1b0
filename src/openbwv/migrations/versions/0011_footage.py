"""footage: clips stored once by their content, and the sources (uploads) that delivered them

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("camera_serial", sa.String(length=60), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ingest_state", sa.String(length=20), nullable=False),
        sa.Column("review_reason", sa.String(length=20), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("probed_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("codec", sa.String(length=40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("started_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gps_track", sa.JSON(), nullable=True),
        sa.Column("poster_key", sa.String(length=200), nullable=True),
        sa.Column("thumbnails_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ingest_state IN ('stored', 'ready', 'held_for_review', 'failed')",
            name=op.f("ck_clip_ingest_state"),
        ),
        sa.CheckConstraint(
            "review_reason IS NULL OR review_reason IN ('unknown_camera', 'no_holder')",
            name=op.f("ck_clip_review"),
        ),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"], name=op.f("fk_clip_officer_id_officer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip")),
        sa.UniqueConstraint("sha256", name=op.f("uq_clip_sha256")),
    )
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.create_index("ix_clip_camera", ["camera_serial", "recorded_at"], unique=False)
        batch_op.create_index("ix_clip_officer", ["officer_id", "recorded_at"], unique=False)
        batch_op.create_index("ix_clip_state", ["ingest_state"], unique=False)

    op.create_table(
        "clip_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=120), nullable=False),
        sa.Column("device_serial", sa.String(length=60), nullable=True),
        sa.Column("declared_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("clip_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("quarantine_key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome = 'quarantined' OR outcome = 'received' OR clip_id IS NOT NULL",
            name=op.f("ck_clip_source_clip"),
        ),
        sa.CheckConstraint(
            "outcome IN ('received', 'stored', 'duplicate', 'quarantined')",
            name=op.f("ck_clip_source_outcome"),
        ),
        sa.CheckConstraint("source_kind IN ('tus', 'axis')", name=op.f("ck_clip_source_kind")),
        sa.ForeignKeyConstraint(["clip_id"], ["clip.id"], name=op.f("fk_clip_source_clip_id_clip")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_source")),
        sa.UniqueConstraint("source_kind", "source_id", name=op.f("uq_clip_source_source_kind")),
    )
    with op.batch_alter_table("clip_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clip_source_clip_id"), ["clip_id"], unique=False)
        batch_op.create_index("ix_clip_source_outcome", ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clip_source", schema=None) as batch_op:
        batch_op.drop_index("ix_clip_source_outcome")
        batch_op.drop_index(batch_op.f("ix_clip_source_clip_id"))

    op.drop_table("clip_source")
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.drop_index("ix_clip_state")
        batch_op.drop_index("ix_clip_officer")
        batch_op.drop_index("ix_clip_camera")

    op.drop_table("clip")
