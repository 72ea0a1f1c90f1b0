"""training: an eligibility rule is withdrawn or superseded, with who, when and why

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("eligibility_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", openbwv.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_eligibility_rule_superseded_by_id_eligibility_rule"),
            "eligibility_rule",
            ["superseded_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("eligibility_rule", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_eligibility_rule_superseded_by_id_eligibility_rule"), type_="foreignkey"
        )
        batch_op.drop_column("superseded_by_id")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("ends_on")
