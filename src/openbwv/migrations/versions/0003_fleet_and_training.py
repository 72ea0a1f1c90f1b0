"""fleet and training: devices, issues, movements, cartridges, roll-out, courses, passes, policy

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Reference data seeded as rows; a force edits the tables, not these lists.
COURSES = [
    ("bwv_user", "Body-worn video user course", "bwv", None),
    ("taser_initial", "Taser initial course", "taser", 12),
    ("taser_refresher", "Taser annual refresher", "taser", 12),
]
TASER_MODELS = [("X2", "Taser X2", 2), ("Taser 7", "Taser 7", 2), ("Taser 10", "Taser 10", 10)]
TABLES = [
    "device_movement",
    "training_pass",
    "taser_volunteer",
    "taser_cartridge",
    "notification",
    "device_issue",
    "rollout_phase",
    "eligibility_rule",
    "device",
    "training_course",
    "taser_model",
]


def upgrade() -> None:
    op.create_table(
        "taser_model",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("cartridge_bays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_taser_model")),
    )
    op.create_table(
        "training_course",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=True),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_training_course")),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("firmware", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("station", sa.String(length=120), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("battery_health", sa.Integer(), nullable=True),
        sa.Column("storage_health", sa.Integer(), nullable=True),
        sa.Column("slots", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("current_issue_id", sa.Integer(), nullable=True),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_device_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("serial", name=op.f("uq_device_serial")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index("ix_device_kind_state", ["kind", "state"], unique=False)
        batch_op.create_index("ix_device_model", ["model"], unique=False)
        batch_op.create_index("ix_device_station", ["station"], unique=False)

    op.create_table(
        "eligibility_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.Column("rank_code", sa.String(length=40), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rank_code"], ["rank.code"], name=op.f("fk_eligibility_rule_rank_code_rank")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_eligibility_rule_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_rule")),
    )
    op.create_table(
        "rollout_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("target_cameras", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_rollout_phase_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_phase")),
        sa.UniqueConstraint("name", "unit_id", name=op.f("uq_rollout_phase_name")),
    )
    op.create_table(
        "device_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("issued_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=150), nullable=False),
        sa.Column("due_back_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("station", sa.String(length=120), nullable=True),
        sa.Column("returned_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(length=150), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_device_issue_device_id_device")),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_device_issue_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_issue")),
    )
    with op.batch_alter_table("device_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_issue_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_issue_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index("ix_device_issue_open", ["returned_at", "device_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_notification_officer_id_officer")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_notification_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint(
            "officer_id",
            "recipient",
            "kind",
            "authority",
            "expires_on",
            name=op.f("uq_notification_officer_id"),
        ),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_unit", ["unit_id", "created_at"], unique=False)

    op.create_table(
        "taser_cartridge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("lot", sa.String(length=60), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("taser_id", sa.Integer(), nullable=True),
        sa.Column("bay", sa.Integer(), nullable=True),
        sa.Column("discharged", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["taser_id"], ["device.id"], name=op.f("fk_taser_cartridge_taser_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taser_cartridge")),
        sa.UniqueConstraint("serial", name=op.f("uq_taser_cartridge_serial")),
    )
    with op.batch_alter_table("taser_cartridge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taser_cartridge_taser_id"), ["taser_id"], unique=False)

    op.create_table(
        "taser_volunteer",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("volunteered_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_taser_volunteer_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_taser_volunteer")),
    )
    op.create_table(
        "training_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("course_code", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=True),
        sa.Column("passed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("trainer", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("recorded_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_code"],
            ["training_course.code"],
            name=op.f("fk_training_pass_course_code_training_course"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_training_pass_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_pass")),
    )
    with op.batch_alter_table("training_pass", schema=None) as batch_op:
        batch_op.create_index("ix_training_pass_authority_expires", ["authority", "expires_on"], unique=False)
        batch_op.create_index("ix_training_pass_officer", ["officer_id", "authority"], unique=False)

    op.create_table(
        "device_movement",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_device_movement_device_id_device")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["device_issue.id"], name=op.f("fk_device_movement_issue_id_device_issue")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_device_movement_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_movement")),
    )
    with op.batch_alter_table("device_movement", schema=None) as batch_op:
        batch_op.create_index("ix_device_movement_device", ["device_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_device_movement_officer", ["officer_id", "occurred_at"], unique=False)

    course_table = sa.table(
        "training_course",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("authority", sa.String),
        sa.column("validity_months", sa.Integer),
    )
    op.bulk_insert(
        course_table,
        [
            {"code": code, "name": name, "authority": authority, "validity_months": months}
            for code, name, authority, months in COURSES
        ],
    )
    model_table = sa.table(
        "taser_model",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("cartridge_bays", sa.Integer),
    )
    op.bulk_insert(
        model_table,
        [{"code": code, "name": name, "cartridge_bays": bays} for code, name, bays in TASER_MODELS],
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
