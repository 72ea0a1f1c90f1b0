"""live: the readers MediaMTX let in under a live view, so that each is closed when its view ends

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "kicked_at IS NULL AND connection_id IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "live_media_server_read",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("view_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.String(length=100), nullable=True),
        sa.Column("protocol", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("admitted_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("kicked_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.Column("kick_cause", sa.String(length=10), nullable=True),
        sa.Column("kick_attempts", sa.Integer(), nullable=False),
        sa.Column("kick_error", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "kick_cause IS NULL OR kick_cause IN ('ended', 'expired', 'revoked')",
            name=op.f("ck_live_media_server_read_kick_cause"),
        ),
        sa.ForeignKeyConstraint(
            ["view_id"], ["access_grant.id"], name=op.f("fk_live_media_server_read_view_id_access_grant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_media_server_read")),
    )
    op.create_index(
        "ix_live_media_server_read_open",
        "live_media_server_read",
        ["view_id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_live_media_server_read_open", table_name="live_media_server_read")
    op.drop_table("live_media_server_read")
