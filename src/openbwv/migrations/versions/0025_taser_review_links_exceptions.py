"""taser: sign-off and versions of reports, linked footage (clips found by probe time), exceptions,
and the rules' settings

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_clip_probed", "clip", ["probed_at"])
    with op.batch_alter_table("taser_deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_at", openbwv.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("signed_off_by", sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column("signed_off_at", openbwv.db.UTCDateTime(), nullable=True))
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('submitted', 'returned', 'signed_off')")
    op.create_table(
        "taser_deployment_version",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("signed_off_by", sa.String(length=150), nullable=True),
        sa.Column("signed_off_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.Column("replaced_by", sa.String(length=150), nullable=False),
        sa.Column("replaced_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["taser_deployment.id"],
            name=op.f("fk_taser_deployment_version_deployment_id_taser_deployment"),
        ),
        sa.PrimaryKeyConstraint("deployment_id", "version", name=op.f("pk_taser_deployment_version")),
    )
    op.create_table(
        "taser_deployment_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=150), nullable=False),
        sa.Column("reviewed_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('signed_off', 'returned')", name=op.f("ck_taser_deployment_review_decision")
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["taser_deployment.id"],
            name=op.f("fk_taser_deployment_review_deployment_id_taser_deployment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_deployment_review")),
    )
    op.create_index(
        "ix_taser_deployment_review_deployment", "taser_deployment_review", ["deployment_id", "reviewed_at"]
    )
    op.create_table(
        "taser_clip_link",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("linked_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('own_camera', 'nearby_track', 'nearby_telemetry')",
            name=op.f("ck_taser_clip_link_reason"),
        ),
        sa.ForeignKeyConstraint(["clip_id"], ["clip.id"], name=op.f("fk_taser_clip_link_clip_id_clip")),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["taser_deployment.id"],
            name=op.f("fk_taser_clip_link_deployment_id_taser_deployment"),
        ),
        sa.PrimaryKeyConstraint("deployment_id", "clip_id", name=op.f("pk_taser_clip_link")),
    )
    op.create_index("ix_taser_clip_link_clip", "taser_clip_link", ["clip_id"])
    op.create_table(
        "taser_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("taser_serial", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raised_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("explanation", sa.String(length=30), nullable=True),
        sa.Column("explanation_text", sa.Text(), nullable=True),
        sa.Column("explained_by", sa.String(length=150), nullable=True),
        sa.Column("explained_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('no_footage', 'unreported_trigger', 'time_mismatch')",
            name=op.f("ck_taser_exception_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["taser_deployment.id"],
            name=op.f("fk_taser_exception_deployment_id_taser_deployment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_exception")),
    )
    op.create_index(
        "uq_taser_exception_deployment",
        "taser_exception",
        ["kind", "deployment_id"],
        unique=True,
        sqlite_where=sa.text("deployment_id IS NOT NULL"),
        postgresql_where=sa.text("deployment_id IS NOT NULL"),
    )
    op.create_index(
        "uq_taser_exception_device",
        "taser_exception",
        ["kind", "taser_serial", "occurred_at"],
        unique=True,
        sqlite_where=sa.text("deployment_id IS NULL"),
        postgresql_where=sa.text("deployment_id IS NULL"),
    )
    op.create_index(
        "ix_taser_exception_open",
        "taser_exception",
        ["raised_at", "id"],
        sqlite_where=sa.text("explained_at IS NULL"),
        postgresql_where=sa.text("explained_at IS NULL"),
    )
    op.create_table(
        "taser_setting",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(length=150), nullable=False),
        sa.Column("updated_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_taser_setting")),
    )


def downgrade() -> None:
    op.drop_index("ix_clip_probed", table_name="clip")
    op.drop_table("taser_setting")
    op.drop_index("ix_taser_exception_open", table_name="taser_exception")
    op.drop_index("uq_taser_exception_device", table_name="taser_exception")
    op.drop_index("uq_taser_exception_deployment", table_name="taser_exception")
    op.drop_table("taser_exception")
    op.drop_index("ix_taser_clip_link_clip", table_name="taser_clip_link")
    op.drop_table("taser_clip_link")
    op.drop_index("ix_taser_deployment_review_deployment", table_name="taser_deployment_review")
    op.drop_table("taser_deployment_review")
    op.drop_table("taser_deployment_version")
    with op.batch_alter_table("taser_deployment", schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('submitted')")
        batch_op.drop_column("signed_off_at")
        batch_op.drop_column("signed_off_by")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("version")
