"""reasons for access: the force's reason codes (what each permits and forbids) and grants of access

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reference data seeded as rows; a force edits the tables, not this list. Live view "will not be used
# for any independent scrutiny around use of force or stop and search": those reasons forbid it.
REASONS = [
    (
        "incident-response",
        "Live incident response",
        "Supporting officers at an incident in progress: what their cameras show now and have just recorded.",
        ["footage_view", "live_view"],
        [],
    ),
    (
        "officer-safety",
        "Officer safety",
        "Checking on an officer who may be in danger: an emergency button, no answer on the radio.",
        ["live_view"],
        [],
    ),
    (
        "evidential-review",
        "Evidential review",
        "Reviewing recorded footage as evidence for a crime or incident, or preparing it for disclosure.",
        ["footage_view", "footage_view_redacted"],
        [],
    ),
    (
        "investigation",
        "Criminal investigation",
        "Investigating an offence: recorded footage linked to the crime or incident number.",
        ["footage_view"],
        [],
    ),
    (
        "complaint-investigation",
        "Complaint or conduct investigation",
        "Professional standards looking into a complaint or an officer's conduct.",
        ["footage_view"],
        [],
    ),
    (
        "uof-scrutiny",
        "Independent scrutiny of use of force",
        "A public scrutiny panel reviewing recorded uses of force, Taser included. Never live.",
        ["footage_view_redacted"],
        ["live_view"],
    ),
    (
        "stop-search-scrutiny",
        "Independent scrutiny of stop and search",
        "A public scrutiny panel reviewing recorded stops and searches. Never live.",
        ["footage_view_redacted"],
        ["live_view"],
    ),
]


def upgrade() -> None:
    op.create_table(
        "access_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_reason")),
        sa.UniqueConstraint("code", name=op.f("uq_access_reason_code")),
    )
    op.create_table(
        "access_reason_rule",
        sa.Column("reason_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("effect", sa.String(length=10), nullable=False),
        sa.CheckConstraint("effect IN ('permits', 'forbids')", name=op.f("ck_access_reason_rule_effect")),
        sa.ForeignKeyConstraint(
            ["reason_id"],
            ["access_reason.id"],
            name=op.f("fk_access_reason_rule_reason_id_access_reason"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reason_id", "kind", name=op.f("pk_access_reason_rule")),
    )
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("record_kind", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("incident_number", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("granted_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewed_count", sa.Integer(), nullable=False),
        sa.Column("ended_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=150), nullable=True),
        sa.Column("end_cause", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "end_cause IS NULL OR end_cause IN ('ended', 'expired')", name=op.f("ck_access_grant_end_cause")
        ),
        sa.CheckConstraint(
            "incident_number IS NOT NULL OR note IS NOT NULL", name=op.f("ck_access_grant_stated")
        ),
        sa.ForeignKeyConstraint(
            ["reason_code"], ["access_reason.code"], name=op.f("fk_access_grant_reason_code_access_reason")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_grant_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
    )
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.create_index("ix_access_grant_granted_at", ["granted_at"], unique=False)
        batch_op.create_index(
            "ix_access_grant_record", ["record_kind", "record_id", "granted_at"], unique=False
        )
        batch_op.create_index("ix_access_grant_user", ["user_id", "granted_at"], unique=False)
    # One open grant per person, record and kind: the database decides between two at once.
    op.create_index(
        "uq_access_grant_open",
        "access_grant",
        ["user_id", "record_kind", "record_id", "kind"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    _seed()


def _seed() -> None:
    reason = sa.table(
        "access_reason",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("description", sa.Text),
        sa.column("active", sa.Boolean),
        sa.column("created_at", openbwv.db.UTCDateTime(timezone=True)),
    )
    rule = sa.table(
        "access_reason_rule", sa.column("reason_id", sa.Integer), sa.column("kind"), sa.column("effect")
    )
    now = sa.func.current_timestamp()
    connection = op.get_bind()
    for code, label, description, permits, forbids in REASONS:
        connection.execute(
            reason.insert().values(
                code=code, label=label, description=description, active=True, created_at=now
            )
        )
        reason_id = connection.execute(sa.select(reason.c.id).where(reason.c.code == code)).scalar_one()
        rows = [{"reason_id": reason_id, "kind": k, "effect": "permits"} for k in permits]
        rows += [{"reason_id": reason_id, "kind": k, "effect": "forbids"} for k in forbids]
        connection.execute(rule.insert(), rows)


def downgrade() -> None:
    op.drop_table("access_grant")
    op.drop_table("access_reason_rule")
    op.drop_table("access_reason")
