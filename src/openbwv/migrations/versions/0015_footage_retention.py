"""footage retention: categories with retention periods (seeded), clip tags, evidence flag, legal hold,
case reference, and soft deletion then destruction

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_CANDIDATE = (
    "deleted_at IS NULL AND evidence_flag = false AND legal_hold = false AND case_reference IS NULL"
)
RECOVERABLE = "deleted_at IS NOT NULL AND destroyed_at IS NULL"
PURGE_PENDING = "destroyed_at IS NOT NULL AND purged_at IS NULL"

# England and Wales practice (docs: DOMAIN.md): non-evidential footage goes 31 days after recording;
# evidential footage is kept under its MoPI review group (1: certain public protection matters,
# reviewed every 10 years; 2: other sexual, violent or serious offences, every 10 years; 3: other
# offences, after 6 years) and never deleted by the job. The force edits these rows.
CATEGORIES = [
    ("non_evidential", "Non-evidential", 31, None, None, True),
    ("incident", "Incident", None, 3, 6, False),
    ("stop_and_search", "Stop and search", None, 3, 6, False),
    ("use_of_force", "Use of force", None, 2, 10, False),
    ("domestic_abuse", "Domestic abuse", None, 2, 10, False),
    ("public_order", "Public order", None, 3, 6, False),
    ("road_traffic", "Road traffic", None, 3, 6, False),
    ("public_protection", "Public protection (MoPI group 1)", None, 1, 10, False),
]


def upgrade() -> None:
    category = op.create_table(
        "footage_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("mopi_group", sa.Integer(), nullable=True),
        sa.Column("review_years", sa.Integer(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "retention_days IS NULL OR retention_days >= 1", name=op.f("ck_footage_category_retention_days")
        ),
        sa.CheckConstraint(
            "mopi_group IS NULL OR mopi_group IN (1, 2, 3)", name=op.f("ck_footage_category_mopi_group")
        ),
        sa.CheckConstraint(
            "NOT is_default OR retention_days IS NOT NULL", name=op.f("ck_footage_category_default_deletes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footage_category")),
        sa.UniqueConstraint("code", name=op.f("uq_footage_category_code")),
    )
    op.create_index(
        "uq_footage_category_default",
        "footage_category",
        ["is_default"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.bulk_insert(
        category,
        [
            {
                "code": code,
                "label": label,
                "retention_days": days,
                "mopi_group": group,
                "review_years": years,
                "is_default": default,
                "is_active": True,
            }
            for code, label, days, group, years, default in CATEGORIES
        ],
    )

    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("incident_number", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("evidence_flag", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("case_reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", openbwv.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deletion_rule", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("destroyed_at", openbwv.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("purged_at", openbwv.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("restored_at", openbwv.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_clip_category_id_footage_category"), "footage_category", ["category_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_clip_destroyed_deleted"), "destroyed_at IS NULL OR deleted_at IS NOT NULL"
        )
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.alter_column("evidence_flag", server_default=None)
        batch_op.alter_column("legal_hold", server_default=None)
        batch_op.create_index(
            "ix_clip_retention",
            ["category_id", "recorded_at", "id"],
            unique=False,
            sqlite_where=sa.text(RETENTION_CANDIDATE),
            postgresql_where=sa.text(RETENTION_CANDIDATE),
        )
        batch_op.create_index(
            "ix_clip_recoverable",
            ["deleted_at", "id"],
            unique=False,
            sqlite_where=sa.text(RECOVERABLE),
            postgresql_where=sa.text(RECOVERABLE),
        )
        batch_op.create_index(
            "ix_clip_purge_pending",
            ["destroyed_at", "id"],
            unique=False,
            sqlite_where=sa.text(PURGE_PENDING),
            postgresql_where=sa.text(PURGE_PENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.drop_index("ix_clip_purge_pending")
        batch_op.drop_index("ix_clip_recoverable")
        batch_op.drop_index("ix_clip_retention")
        batch_op.drop_constraint(batch_op.f("ck_clip_destroyed_deleted"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_clip_category_id_footage_category"), type_="foreignkey")
        for column in (
            "restored_at",
            "purged_at",
            "destroyed_at",
            "deletion_rule",
            "deleted_at",
            "case_reference",
            "legal_hold",
            "evidence_flag",
            "incident_number",
            "category_id",
        ):
            batch_op.drop_column(column)
    op.drop_index("uq_footage_category_default", table_name="footage_category")
    op.drop_table("footage_category")
