"""One event as evidence: its leaf, its inclusion proof in the latest checkpoint, checked on the spot
with the independent verifier, and the C2SP proof file a court bundle or a complainant can keep."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import canonical, note, proof_file, proofs, verify
from openbwv.audit.log import current_size, sequence_and_checkpoint
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditPending
from openbwv.config import Settings
from openbwv.db import reading
from openbwv.errors import NotFound


@dataclass(frozen=True)
class EventEvidence:
    event: AuditEvent
    leaf: bytes
    """The event's canonical bytes as its row gives them today."""
    leaf_index: int | None
    """None while the event is queued for the log."""
    checkpoint: AuditCheckpoint | None
    """The latest checkpoint, when it covers the leaf."""
    proof: list[bytes]
    verified: bool
    """Whether the proof, the bytes and the checkpoint's signature all check out with ``verify``."""


@dataclass(frozen=True)
class LogStatus:
    leaves: int
    queued: int
    checkpoint: AuditCheckpoint | None


def event_evidence(db: Session, event_id: int, *, verifier: note.Verifier) -> EventEvidence:
    """The event with its place in the log; ``NotFound`` for an unknown id."""
    event = db.get(AuditEvent, event_id)
    if event is None:
        raise NotFound("audit event")
    leaf = canonical.leaf_bytes({name: getattr(event, name) for name in canonical.FIELDS})
    leaf_index = proofs.leaf_indexes(db, [event_id]).get(event_id)
    checkpoint = proofs.latest_checkpoint(db)
    if leaf_index is None or checkpoint is None or leaf_index >= checkpoint.tree_size:
        return EventEvidence(event, leaf, leaf_index, None, [], verified=False)
    _, path = proofs.inclusion_proof(db, leaf_index=leaf_index, tree_size=checkpoint.tree_size)
    return EventEvidence(
        event,
        leaf,
        leaf_index,
        checkpoint,
        path,
        verified=_verified(leaf, leaf_index, path, checkpoint, verifier),
    )


def _verified(
    leaf: bytes, leaf_index: int, path: list[bytes], checkpoint: AuditCheckpoint, verifier: note.Verifier
) -> bool:
    try:
        body = note.parse_checkpoint(note.open_note(checkpoint.note, [verifier]).text)
    except note.NoteError:
        return False
    return verify.verify_inclusion(verify.leaf_hash(leaf), leaf_index, body.tree_size, path, body.root_hash)


def tlog_proof(db: Session, *, leaf_index: int, tree_size: int | None = None) -> tuple[int, str]:
    """The C2SP tlog-proof@v1 text for a leaf (carrying the entry's bytes) and the tree size it proves into."""
    size, path = proofs.inclusion_proof(db, leaf_index=leaf_index, tree_size=tree_size)
    checkpoint = proofs.get_checkpoint(db, size)
    (entry,) = proofs.list_entries(db, start=leaf_index, end=leaf_index + 1)
    proof = proof_file.TlogProof(
        index=leaf_index, hashes=tuple(path), checkpoint=checkpoint.note, extra=entry.leaf
    )
    return size, proof_file.format_proof(proof)


def log_status(db: Session) -> LogStatus:
    return LogStatus(
        leaves=current_size(db),
        queued=db.scalar(select(func.count()).select_from(AuditPending)) or 0,
        checkpoint=proofs.latest_checkpoint(db),
    )


def prove_event(factory: sessionmaker[Session], settings: Settings, event_id: int) -> str | None:
    """The C2SP tlog-proof@v1 text of a committed event, at once: its queued events are sequenced
    and a checkpoint signed now rather than by the next periodic run (for a download that carries the
    proof of the event recording it). None if the event is not in the log even so."""
    sequence_and_checkpoint(factory, settings)
    with reading(factory) as db:
        leaf_index = proofs.leaf_indexes(db, [event_id]).get(event_id)
        if leaf_index is None:
            return None
        return tlog_proof(db, leaf_index=leaf_index)[1]
