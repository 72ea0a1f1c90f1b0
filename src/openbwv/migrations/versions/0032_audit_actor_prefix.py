"""audit: the actor index serves a search by the start of a username on PostgreSQL too

PostgreSQL answers ``LIKE 'j.smi%'`` from a btree index only when the index compares bytes, which
an index under the database's own collation does not; ``varchar_pattern_ops`` does, and still serves
the exact match the index was made for. SQLite's index is unchanged.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_audit_event_actor_occurred"


def _recreate(ops: dict[str, str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="audit_event")
    op.create_index(INDEX, "audit_event", ["actor_username", "occurred_at"], postgresql_ops=ops)


def upgrade() -> None:
    _recreate({"actor_username": "varchar_pattern_ops"})


def downgrade() -> None:
    _recreate({})
