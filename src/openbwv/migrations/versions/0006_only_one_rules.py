"""only-one rules in the database: one open issue per device, one personal camera per officer, one
cartridge per Taser bay, one account per officer

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows that a race could have stored before these rules lived in the database: the upgrade names
# them and stops rather than failing on an anonymous index error.
_CLASHES = {
    "devices out on more than one open issue": (
        "SELECT device_id FROM device_issue WHERE returned_at IS NULL GROUP BY device_id HAVING COUNT(*) > 1"
    ),
    "officers holding more than one personal camera": (
        "SELECT i.officer_id FROM device_issue i JOIN device d ON d.id = i.device_id "
        "WHERE i.returned_at IS NULL AND i.kind = 'personal' AND d.kind = 'camera' "
        "GROUP BY i.officer_id HAVING COUNT(*) > 1"
    ),
    "Taser bays holding more than one cartridge": (
        "SELECT taser_id FROM taser_cartridge WHERE taser_id IS NOT NULL "
        "GROUP BY taser_id, bay HAVING COUNT(*) > 1"
    ),
    "officers with more than one account": (
        "SELECT officer_id FROM user_account WHERE officer_id IS NOT NULL "
        "GROUP BY officer_id HAVING COUNT(*) > 1"
    ),
}


def _refuse_existing_clashes() -> None:
    connection = op.get_bind()
    for what, query in _CLASHES.items():
        ids = [row[0] for row in connection.execute(sa.text(query))]
        if ids:
            raise RuntimeError(
                f"Cannot add the rule: {what} (ids {', '.join(map(str, ids[:20]))}); resolve them first."
            )


def upgrade() -> None:
    _refuse_existing_clashes()
    with op.batch_alter_table("device_issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_kind", sa.String(length=10), nullable=True))
    op.execute(
        "UPDATE device_issue SET device_kind = (SELECT kind FROM device WHERE device.id = device_issue.device_id)"
    )
    op.create_index(
        "uq_device_issue_open_device",
        "device_issue",
        ["device_id"],
        unique=True,
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    personal_camera = sa.text("returned_at IS NULL AND kind = 'personal' AND device_kind = 'camera'")
    op.create_index(
        "uq_device_issue_personal_camera",
        "device_issue",
        ["officer_id"],
        unique=True,
        sqlite_where=personal_camera,
        postgresql_where=personal_camera,
    )
    loaded = sa.text("taser_id IS NOT NULL")
    op.create_index(
        "uq_taser_cartridge_bay",
        "taser_cartridge",
        ["taser_id", "bay"],
        unique=True,
        sqlite_where=loaded,
        postgresql_where=loaded,
    )
    linked = sa.text("officer_id IS NOT NULL")
    op.create_index(
        "uq_user_account_officer",
        "user_account",
        ["officer_id"],
        unique=True,
        sqlite_where=linked,
        postgresql_where=linked,
    )


def downgrade() -> None:
    op.drop_index("uq_user_account_officer", table_name="user_account")
    op.drop_index("uq_taser_cartridge_bay", table_name="taser_cartridge")
    op.drop_index("uq_device_issue_personal_camera", table_name="device_issue")
    op.drop_index("uq_device_issue_open_device", table_name="device_issue")
    with op.batch_alter_table("device_issue", schema=None) as batch_op:
        batch_op.drop_column("device_kind")
