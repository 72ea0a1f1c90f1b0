"""Reading the transparency log: checkpoints, entries, and inclusion and consistency proofs.

Proofs are assembled from stored subtree hashes with one batched query each (``log.node_fetcher``),
for any tree size up to the latest signed checkpoint; they never rehash leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv.audit import canonical, merkle
from openbwv.audit.log import current_size, node_fetcher
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from openbwv.errors import Conflict, InvalidInput, NotFound

MAX_ENTRIES = 1000


@dataclass(frozen=True)
class Entry:
    """A leaf: its index, the event's fields and the canonical bytes they give today."""

    leaf_index: int
    event: dict[str, Any]
    leaf: bytes


def latest_checkpoint(db: Session) -> AuditCheckpoint | None:
    return db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()


def get_checkpoint(db: Session, tree_size: int | None = None) -> AuditCheckpoint:
    """The checkpoint for ``tree_size``, or the latest; ``NotFound`` when there is none."""
    checkpoint = latest_checkpoint(db) if tree_size is None else db.get(AuditCheckpoint, tree_size)
    if checkpoint is None:
        raise NotFound("checkpoint" if tree_size is None else f"checkpoint for tree size {tree_size}")
    return checkpoint


def list_checkpoints(db: Session, *, limit: int, offset: int) -> tuple[list[AuditCheckpoint], int]:
    """Signed checkpoints, newest first, with the total count."""
    total = db.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
    rows = db.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def list_entries(db: Session, *, start: int, end: int) -> list[Entry]:
    """Leaves ``[start, end)`` in order (``end`` is cut to the log's size), at most ``MAX_ENTRIES``."""
    if end <= start:
        raise InvalidInput("end", "must be greater than start")
    if end - start > MAX_ENTRIES:
        raise InvalidInput(
            "end", f"at most {MAX_ENTRIES} entries a call: end - start must be {MAX_ENTRIES} or less"
        )
    size = current_size(db)
    if start >= size:
        raise InvalidInput("start", f"the log has {size} leaves, so start must be below {size}")
    columns = [getattr(AuditEvent, name) for name in canonical.FIELDS]
    rows = db.execute(
        select(AuditLeaf.leaf_index, *columns)
        .join(AuditEvent, AuditEvent.id == AuditLeaf.event_id)
        .where(AuditLeaf.leaf_index >= start, AuditLeaf.leaf_index < min(end, size))
        .order_by(AuditLeaf.leaf_index)
    ).all()
    entries = []
    for row in rows:
        event = {name: getattr(row, name) for name in canonical.FIELDS}
        entries.append(Entry(leaf_index=row.leaf_index, event=event, leaf=canonical.leaf_bytes(event)))
    return entries


def leaf_indexes(db: Session, event_ids: Iterable[int]) -> dict[int, int]:
    """The leaf index of each event that is in the log, by event id."""
    wanted = list(set(event_ids))
    if not wanted:
        return {}
    rows = db.execute(select(AuditLeaf.event_id, AuditLeaf.leaf_index).where(AuditLeaf.event_id.in_(wanted)))
    return {event_id: leaf_index for event_id, leaf_index in rows}


def _signed_size(db: Session) -> int:
    latest = db.scalar(select(func.max(AuditCheckpoint.tree_size)))
    if latest is None:
        raise NotFound("checkpoint")
    return latest


def _check_signed(db: Session, field: str, tree_size: int) -> None:
    signed = _signed_size(db)
    if tree_size > signed:
        raise InvalidInput(
            field, f"no checkpoint covers {tree_size} leaves; the latest checkpoint has {signed}"
        )


def _proof(
    db: Session, field: str, tree_size: int, build: Callable[[merkle.FetchNodes], list[bytes]]
) -> list[bytes]:
    """Build a proof for a tree that a checkpoint must cover, in one query when all is well: the node
    query itself checks the signed size, and only a refusal costs a second query to explain it."""
    try:
        path = build(node_fetcher(db, signed_size=tree_size))
    except merkle.MissingNodeError as exc:
        _check_signed(db, field, tree_size)
        raise _incomplete(exc) from None
    if not path:
        _check_signed(db, field, tree_size)  # an empty proof read nothing, so nothing checked the size
    return path


def inclusion_proof(db: Session, *, leaf_index: int, tree_size: int | None = None) -> tuple[int, list[bytes]]:
    """The tree size used (default: the latest checkpoint's) and the RFC 9162 inclusion proof of
    ``leaf_index`` in it."""
    size = _signed_size(db) if tree_size is None else tree_size
    if not 0 <= leaf_index < size:
        raise InvalidInput("leaf_index", f"must be below the tree size {size}")
    return size, _proof(
        db, "tree_size", size, lambda fetch: merkle.inclusion_proof(leaf_index, size, size, fetch)
    )


def consistency_proof(db: Session, *, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""
    if not 1 <= first <= second:
        raise InvalidInput("first", f"must be at least 1 and at most second ({second})")
    return _proof(db, "second", second, lambda fetch: merkle.consistency_proof(first, second, second, fetch))


def _incomplete(exc: merkle.MissingNodeError) -> Conflict:
    return Conflict(
        f"The stored log tree is incomplete ({exc}); run `openbwv audit verify`.", rule="audit_log_incomplete"
    )
