"""live view reasons: the operational reasons for watching a camera live that 0009 did not seed

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reference data seeded as rows, like 0009's; a force edits the tables, not this list. A code the
# force already made itself is left as it is.
REASONS = [
    (
        "critical-incident",
        "Critical incident",
        "Commanding or supporting a critical incident in progress: firearms, a major incident, serious harm.",
        ["live_view"],
    ),
    (
        "public-order-command",
        "Public order command",
        "Gold, silver or bronze command of a public order or public safety operation.",
        ["live_view"],
    ),
    (
        "pursuit-support",
        "Pursuit support",
        "Supporting a vehicle or foot pursuit in progress.",
        ["live_view"],
    ),
    (
        "missing-person",
        "Missing person search",
        "Searching for a missing person at risk: what the officers searching see now.",
        ["live_view"],
    ),
]

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
grant = sa.table("access_grant", sa.column("reason_code", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    existing = set(connection.execute(sa.select(reason.c.code)).scalars())
    now = sa.func.current_timestamp()
    for code, label, description, permits in REASONS:
        if code in existing:
            continue
        connection.execute(
            reason.insert().values(
                code=code, label=label, description=description, active=True, created_at=now
            )
        )
        reason_id = connection.execute(sa.select(reason.c.id).where(reason.c.code == code)).scalar_one()
        connection.execute(
            rule.insert(), [{"reason_id": reason_id, "kind": k, "effect": "permits"} for k in permits]
        )


def downgrade() -> None:
    # A reason some grant names stays: grants and the audit log keep naming it.
    connection = op.get_bind()
    named = sa.select(grant.c.reason_code)
    unused = sa.select(reason.c.id).where(
        reason.c.code.in_([code for code, *_ in REASONS]), reason.c.code.not_in(named)
    )
    ids = list(connection.execute(unused).scalars())
    if ids:
        connection.execute(rule.delete().where(rule.c.reason_id.in_(ids)))
        connection.execute(reason.delete().where(reason.c.id.in_(ids)))
