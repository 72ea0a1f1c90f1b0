"""foundation: people, accounts, audit

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The force's ranks and staff grades as seeded data; a force edits the table, not this list.
RANKS = [
    ("police_staff", "Police staff", 0, False),
    ("pcso", "Police community support officer", 1, False),
    ("special_constable", "Special constable", 2, True),
    ("constable", "Constable", 10, True),
    ("sergeant", "Sergeant", 20, True),
    ("inspector", "Inspector", 30, True),
    ("chief_inspector", "Chief inspector", 40, True),
    ("superintendent", "Superintendent", 50, True),
    ("chief_superintendent", "Chief superintendent", 60, True),
    ("assistant_chief_constable", "Assistant chief constable", 70, True),
    ("deputy_chief_constable", "Deputy chief constable", 80, True),
    ("chief_constable", "Chief constable", 90, True),
]


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_username", sa.String(length=150), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target_type", sa.String(length=60), nullable=True),
        sa.Column("target_id", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_action_occurred", ["action", "occurred_at"], unique=False)
        batch_op.create_index(
            "ix_audit_event_actor_occurred", ["actor_username", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_audit_event_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_failure_client_address_failed_at", ["client_address", "failed_at"], unique=False
        )
        batch_op.create_index("ix_login_failure_username_failed_at", ["username", "failed_at"], unique=False)

    op.create_table(
        "rank",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("seniority", sa.Integer(), nullable=False),
        sa.Column("is_warranted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_rank")),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("station", sa.String(length=120), nullable=True),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
    )
    op.create_table(
        "officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collar_number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rank_code", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rank_code"], ["rank.code"], name=op.f("fk_officer_rank_code_rank")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_officer_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer")),
        sa.UniqueConstraint("collar_number", name=op.f("uq_officer_collar_number")),
    )
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.create_index("ix_officer_name", ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_officer_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_user_account_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_officer_id"), ["officer_id"], unique=False)

    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", openbwv.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_auth_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_token_token_hash")),
    )
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_role_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_role")),
    )

    rank_table = sa.table(
        "rank",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("seniority", sa.Integer),
        sa.column("is_warranted", sa.Boolean),
    )
    op.bulk_insert(
        rank_table,
        [
            {"code": code, "name": name, "seniority": seniority, "is_warranted": warranted}
            for code, name, seniority, warranted in RANKS
        ],
    )


def downgrade() -> None:
    raise RuntimeError("The foundation schema holds the audit log, which is never dropped.")
