"""misuse alerts: how professional standards handle each alert (state, outcome, notes), and the misuse
rules' thresholds as data, seeded with the defaults

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_THRESHOLDS = [
    ("long_live_view_without_incident", "minutes", 20),
    ("officer_watched_repeatedly", "days", 3),
    ("officer_watched_repeatedly", "window_days", 14),
    ("live_view_browsing", "views", 5),
    ("live_view_browsing", "max_seconds", 60),
    ("live_view_browsing", "cameras", 5),
    ("live_view_browsing", "window_minutes", 30),
]


def upgrade() -> None:
    op.create_table(
        "audit_alert",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=150), nullable=True),
        sa.Column("acknowledged_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=150), nullable=True),
        sa.Column("closed_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_event.id"], name=op.f("fk_audit_alert_event_id_audit_event")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_alert")),
    )
    op.create_index(op.f("ix_audit_alert_state"), "audit_alert", ["state"])
    # Alerts raised before this migration start open.
    op.execute(
        "INSERT INTO audit_alert (event_id, state) "
        "SELECT id, 'open' FROM audit_event WHERE action = 'audit:alert:raised'"
    )
    op.create_table(
        "audit_alert_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_event_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=150), nullable=False),
        sa.Column("written_at", openbwv.db.UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_event_id"],
            ["audit_alert.event_id"],
            name=op.f("fk_audit_alert_note_alert_event_id_audit_alert"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_alert_note")),
    )
    op.create_index(op.f("ix_audit_alert_note_alert_event_id"), "audit_alert_note", ["alert_event_id"])
    threshold = op.create_table(
        "audit_rule_threshold",
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("parameter", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=150), nullable=True),
        sa.Column("changed_at", openbwv.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("rule", "parameter", name=op.f("pk_audit_rule_threshold")),
    )
    op.bulk_insert(
        threshold,
        [
            {"rule": rule, "parameter": parameter, "value": value}
            for rule, parameter, value in DEFAULT_THRESHOLDS
        ],
    )


def downgrade() -> None:
    op.drop_table("audit_rule_threshold")
    op.drop_index(op.f("ix_audit_alert_note_alert_event_id"), table_name="audit_alert_note")
    op.drop_table("audit_alert_note")
    op.drop_index(op.f("ix_audit_alert_state"), table_name="audit_alert")
    op.drop_table("audit_alert")
