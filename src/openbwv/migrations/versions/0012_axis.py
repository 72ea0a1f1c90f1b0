"""axis: Axis body worn systems' Swift tokens, containers and objects

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "axis_container",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=True),
        sa.Column("camera_serial", sa.String(length=100), nullable=True),
        sa.Column("triggered_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_container")),
        sa.UniqueConstraint("account", "name", name=op.f("uq_axis_container_account")),
    )
    op.create_table(
        "axis_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=1500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("stored_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["container_id"], ["axis_container.id"], name=op.f("fk_axis_object_container_id_axis_container")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_object")),
        sa.UniqueConstraint("container_id", "name", name=op.f("uq_axis_object_container_id")),
    )
    op.create_table(
        "axis_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("device_serial", sa.String(length=60), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["device_credential.id"],
            name=op.f("fk_axis_token_credential_id_device_credential"),
        ),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_axis_token_device_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_axis_token_token_hash")),
    )
    with op.batch_alter_table("axis_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_axis_token_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_axis_token_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("axis_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_axis_token_expires_at"))
        batch_op.drop_index(batch_op.f("ix_axis_token_device_id"))

    op.drop_table("axis_token")
    op.drop_table("axis_object")
    op.drop_table("axis_container")
