"""device credentials: cameras and docks sign in as themselves, with scopes

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("device_serial", sa.String(length=60), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("issued_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=150), nullable=False),
        sa.Column("revoked_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=150), nullable=True),
        sa.Column("last_used_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_device_credential_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_credential")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_device_credential_secret_hash")),
    )
    op.create_index(op.f("ix_device_credential_device_id"), "device_credential", ["device_id"], unique=False)
    live = sa.text("revoked_at IS NULL")
    op.create_index(
        "uq_device_credential_live",
        "device_credential",
        ["device_serial"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )


def downgrade() -> None:
    op.drop_index("uq_device_credential_live", table_name="device_credential")
    op.drop_index(op.f("ix_device_credential_device_id"), table_name="device_credential")
    op.drop_table("device_credential")
