"""taser: the population of each ethnicity group by area, for rates of use per 1,000 people

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taser_population",
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("ethnicity", sa.String(length=30), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=150), nullable=False),
        sa.Column("updated_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("population >= 0", name=op.f("ck_taser_population_population")),
        sa.PrimaryKeyConstraint("area", "ethnicity", name=op.f("pk_taser_population")),
    )


def downgrade() -> None:
    op.drop_table("taser_population")
