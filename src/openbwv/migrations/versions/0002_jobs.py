"""jobs: pgqueuer's queue, log, statistics and schedule tables on PostgreSQL

The statements come from pgqueuer itself, for the names its runtime uses, in the first schema
on the search path. SQLite needs nothing: its queue lives in memory. A pgqueuer release that
changes its schema gets a migration of its own running pgqueuer's upgrade statements.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(QueryBuilderEnvironment().build_install_query(create_schema=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(QueryBuilderEnvironment().build_uninstall_query())
