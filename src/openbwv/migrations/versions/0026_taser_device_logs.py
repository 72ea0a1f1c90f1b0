"""taser: device logs imported from the handles, and reconciliation's verdict on each trigger pull

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taser_device_log_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=150), nullable=False),
        sa.Column("imported_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_stored", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_refused", sa.Integer(), nullable=False),
        sa.CheckConstraint("format IN ('csv', 'json')", name=op.f("ck_taser_device_log_import_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_device_log_import")),
    )
    op.create_index("ix_taser_device_log_import_imported", "taser_device_log_import", ["imported_at"])
    op.create_table(
        "taser_device_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taser_serial", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("bay", sa.Integer(), nullable=True),
        sa.Column("battery_percent", sa.Integer(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=30), nullable=True),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("reconciled_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('armed', 'disarmed', 'trigger', 'arc', 'cartridge_deployed')",
            name=op.f("ck_taser_device_log_entry_kind"),
        ),
        sa.CheckConstraint(
            "verdict IS NULL OR verdict IN ('reported', 'spark_test', 'unreported')",
            name=op.f("ck_taser_device_log_entry_verdict"),
        ),
        sa.CheckConstraint("bay IS NULL OR bay BETWEEN 1 AND 10", name=op.f("ck_taser_device_log_entry_bay")),
        sa.CheckConstraint(
            "duration_s IS NULL OR duration_s >= 0", name=op.f("ck_taser_device_log_entry_duration_s")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["taser_device_log_import.id"],
            name=op.f("fk_taser_device_log_entry_import_id_taser_device_log_import"),
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["taser_deployment.id"],
            name=op.f("fk_taser_device_log_entry_deployment_id_taser_deployment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_device_log_entry")),
    )
    op.create_index(
        "uq_taser_device_log_entry_event",
        "taser_device_log_entry",
        ["taser_serial", "occurred_at", "kind"],
        unique=True,
        sqlite_where=sa.text("bay IS NULL"),
        postgresql_where=sa.text("bay IS NULL"),
    )
    op.create_index(
        "uq_taser_device_log_entry_bay_event",
        "taser_device_log_entry",
        ["taser_serial", "occurred_at", "kind", "bay"],
        unique=True,
        sqlite_where=sa.text("bay IS NOT NULL"),
        postgresql_where=sa.text("bay IS NOT NULL"),
    )
    op.create_index("ix_taser_device_log_entry_occurred", "taser_device_log_entry", ["occurred_at"])
    op.create_index("ix_taser_device_log_entry_import", "taser_device_log_entry", ["import_id"])
    op.create_index(
        "ix_taser_device_log_entry_unreconciled",
        "taser_device_log_entry",
        ["occurred_at"],
        sqlite_where=sa.text("verdict IS NULL AND kind IN ('trigger', 'arc')"),
        postgresql_where=sa.text("verdict IS NULL AND kind IN ('trigger', 'arc')"),
    )


def downgrade() -> None:
    op.drop_index("ix_taser_device_log_entry_unreconciled", table_name="taser_device_log_entry")
    op.drop_index("ix_taser_device_log_entry_import", table_name="taser_device_log_entry")
    op.drop_index("ix_taser_device_log_entry_occurred", table_name="taser_device_log_entry")
    op.drop_index("uq_taser_device_log_entry_bay_event", table_name="taser_device_log_entry")
    op.drop_index("uq_taser_device_log_entry_event", table_name="taser_device_log_entry")
    op.drop_table("taser_device_log_entry")
    op.drop_index("ix_taser_device_log_import_imported", table_name="taser_device_log_import")
    op.drop_table("taser_device_log_import")
