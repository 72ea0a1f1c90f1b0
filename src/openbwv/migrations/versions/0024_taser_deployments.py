"""taser: deployment reports in the Home Office use-of-force categories

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taser_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("taser_serial", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("location_type", sa.String(length=30), nullable=False),
        sa.Column("incident_number", sa.String(length=40), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("highest_level", sa.String(length=30), nullable=False),
        sa.Column("cartridges_discharged", sa.Integer(), nullable=False),
        sa.Column("cartridge_bays", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("impact_factors", sa.JSON(), nullable=False),
        sa.Column("subject_age_band", sa.String(length=30), nullable=True),
        sa.Column("subject_gender", sa.String(length=40), nullable=True),
        sa.Column("subject_ethnicity", sa.String(length=30), nullable=True),
        sa.Column("subject_self_defined_ethnicity", sa.String(length=30), nullable=True),
        sa.Column("subject_injured", sa.Boolean(), nullable=False),
        sa.Column("subject_medical_attention", sa.Boolean(), nullable=False),
        sa.Column("officer_injured", sa.Boolean(), nullable=False),
        sa.Column("officer_medical_attention", sa.Boolean(), nullable=False),
        sa.Column("officer_assaulted", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("filed_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('submitted')", name=op.f("ck_taser_deployment_status")),
        sa.CheckConstraint(
            "cartridges_discharged >= 0", name=op.f("ck_taser_deployment_cartridges_discharged")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_taser_deployment_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_deployment")),
    )
    op.create_index("ix_taser_deployment_officer_occurred", "taser_deployment", ["officer_id", "occurred_at"])
    op.create_index("ix_taser_deployment_occurred", "taser_deployment", ["occurred_at"])
    op.create_index("ix_taser_deployment_highest_level", "taser_deployment", ["highest_level", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_taser_deployment_highest_level", table_name="taser_deployment")
    op.drop_index("ix_taser_deployment_occurred", table_name="taser_deployment")
    op.drop_index("ix_taser_deployment_officer_occurred", table_name="taser_deployment")
    op.drop_table("taser_deployment")
