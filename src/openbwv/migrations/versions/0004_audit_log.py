"""audit log: pending queue with its trigger, leaves, tree nodes, checkpoints, verification runs

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Every inserted event is queued for the sequencer, whatever code path inserted it. On PostgreSQL a
# statement-level trigger queues a whole batch (COPY included) with one INSERT ... SELECT.
POSTGRES_TRIGGER = [
    """
    CREATE FUNCTION audit_event_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO audit_pending (event_id) SELECT id FROM new_events;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_enqueue()
    """,
]
SQLITE_TRIGGER = [
    """
    CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event
    BEGIN
        INSERT INTO audit_pending (event_id) VALUES (NEW.id);
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("event_id", _BIG_ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_pending")),
    )
    op.create_table(
        "audit_leaf",
        sa.Column("leaf_index", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_audit_leaf")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_leaf_event_id")),
    )
    op.create_table(
        "audit_tree_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_node")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("tree_size", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoint")),
    )
    op.create_table(
        "audit_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=150), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("leaves_checked", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints_checked", sa.Integer(), nullable=False),
        sa.Column("first_bad_leaf", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verification")),
    )
    statements = POSTGRES_TRIGGER if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGER
    for statement in statements:
        op.execute(statement)
    # Events recorded before the log existed become its first leaves.
    op.execute("INSERT INTO audit_pending (event_id) SELECT id FROM audit_event")


def downgrade() -> None:
    raise RuntimeError("The audit log's leaves and checkpoints are never dropped.")
