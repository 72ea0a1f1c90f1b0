"""Helpers for the audit log tests: events, the stored leaves, and running the log's jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import canonical, log, merkle
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Actor

ACTOR = Actor(username="asmith", user_id=7)


def record_events(
    factory: sessionmaker[Session],
    count: int,
    *,
    action: audit.AuditAction = audit.AuditAction.PEOPLE_OFFICER_UPDATED,
    actor: Actor = ACTOR,
    **fields: Any,
) -> list[int]:
    """Record ``count`` events in one committed transaction; returns their ids."""
    with transaction(factory) as db:
        events = [
            audit.record(
                db,
                actor=actor,
                action=action,
                target=audit.Target("officer", str(1000 + n)),
                reason=fields.get("reason", f"Correcting record {n}"),
                details=fields.get("details", {"n": n}),
            )
            for n in range(count)
        ]
        db.flush()
        return [event.id for event in events]


def publish(factory: sessionmaker[Session], settings: Settings) -> AuditCheckpoint:
    """Sequence everything queued and sign a checkpoint, which must be new."""
    checkpoint = log.sequence_and_checkpoint(factory, settings)
    assert checkpoint is not None
    return checkpoint


def stored_leaves(db: Session) -> list[tuple[int, int, bytes]]:
    """(leaf index, event id, leaf hash) of every leaf, in order."""
    rows = db.execute(
        select(AuditLeaf.leaf_index, AuditLeaf.event_id, AuditLeaf.leaf_hash).order_by(AuditLeaf.leaf_index)
    )
    return [(index, event_id, bytes(digest)) for index, event_id, digest in rows]


def typed_leaf_hashes(db: Session, event_ids: list[int]) -> list[bytes]:
    """Leaf hashes of events read through the ORM's types, in the order given."""
    columns = [getattr(AuditEvent, name) for name in canonical.FIELDS]
    rows = {row.id: row for row in db.execute(select(*columns).where(AuditEvent.id.in_(event_ids)))}
    return [merkle.leaf_hash(canonical.leaf_bytes(rows[event_id]._mapping)) for event_id in event_ids]
