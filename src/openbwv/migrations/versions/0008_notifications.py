"""notifications as a platform piece: one per fact for a user, an officer or a unit's supervisors, read
or unread per user; the Taser authority notices move over unchanged

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def _create_notification() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("concerns_on", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "(recipient = 'user' AND user_id IS NOT NULL)"
            " OR (recipient = 'officer' AND officer_id IS NOT NULL)"
            " OR (recipient = 'supervisor' AND unit_id IS NOT NULL)",
            name=op.f("ck_notification_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_notification_officer_id_officer")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_notification_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_notification_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("key", name=op.f("uq_notification_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_officer", ["officer_id", "created_at"], unique=False)
        batch_op.create_index("ix_notification_unit", ["unit_id", "created_at"], unique=False)
        batch_op.create_index("ix_notification_user", ["user_id", "created_at"], unique=False)


def _create_old_notification() -> None:
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


def _insert(table: sa.TableClause, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _BATCH):
        op.get_bind().execute(table.insert(), rows[start : start + _BATCH])


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


_OLD = (
    "id",
    "created_at",
    "officer_id",
    "recipient",
    "unit_id",
    "kind",
    "authority",
    "expires_on",
    "message",
)
_NEW = ("id", "key", "created_at", "kind", "recipient", "officer_id", "unit_id", "concerns_on", "message")


def upgrade() -> None:
    # The new table takes the old one's name and constraint names, so the rows are read first, the old
    # table dropped, and the rows written to the new one with their ids (both in one transaction).
    old = op.get_bind().execute(sa.select(_table("notification", *_OLD))).mappings().all()
    op.drop_table("notification")
    _create_notification()
    _insert(
        _table("notification", *_NEW),
        [
            {
                "id": row["id"],
                # The old unique rule (officer, recipient, kind, authority, date) becomes the fact's key.
                "key": f"{row['authority']}:{row['kind']}:{row['officer_id']}:"
                f"{_iso(row['expires_on'])}:{row['recipient']}",
                "created_at": row["created_at"],
                "kind": row["kind"],
                "recipient": row["recipient"],
                "officer_id": row["officer_id"],
                "unit_id": row["unit_id"],
                "concerns_on": row["expires_on"],
                "message": row["message"],
            }
            for row in old
            # A supervisors' notice with no unit reached nobody; the new table cannot address it.
            if row["recipient"] == "officer" or row["unit_id"] is not None
        ],
    )
    if op.get_bind().dialect.name == "postgresql" and old:
        op.execute(
            "SELECT setval(pg_get_serial_sequence('notification', 'id'), (SELECT MAX(id) FROM notification))"
        )
    op.create_table(
        "notification_read",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_read_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_read_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "user_id", name=op.f("pk_notification_read")),
    )


def downgrade() -> None:
    # Only the Taser authority notices existed before; read state and other notices are dropped.
    new = (
        op.get_bind()
        .execute(
            sa.select(_table("notification", *_NEW)).where(
                sa.column("key").like("taser:%"), sa.column("recipient").in_(("officer", "supervisor"))
            )
        )
        .mappings()
        .all()
    )
    op.drop_table("notification_read")
    op.drop_table("notification")
    _create_old_notification()
    _insert(
        _table("notification", *_OLD),
        [
            {
                "id": row["id"],
                "created_at": row["created_at"],
                "officer_id": row["officer_id"],
                "recipient": row["recipient"],
                "unit_id": row["unit_id"],
                "kind": row["kind"],
                "authority": "taser",
                "expires_on": row["concerns_on"],
                "message": row["message"],
            }
            for row in new
            if row["officer_id"] is not None and row["concerns_on"] is not None
        ],
    )


def _iso(value: Any) -> str:
    # SQLite hands back the stored text, PostgreSQL a date.
    return value if isinstance(value, str) else value.isoformat()
