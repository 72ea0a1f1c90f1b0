"""Helpers for the audit log tests: events, the stored leaves, and running the log's jobs."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import canonical, log, merkle, note, proof_file
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


PROOF_ORIGIN = "openbwv.example/audit"
PROOF_SIGNER = note.Ed25519Signer(PROOF_ORIGIN, bytes(range(32)))
PROOF_LEAVES = tuple(f'{{"n":{n},"x":"abcd"}}'.encode() for n in range(5))
"""Five leaves of 18 bytes: base64 without padding."""


def proof_file_bytes(
    leaves: tuple[bytes, ...] = PROOF_LEAVES, *, index: int = 2, root_line: str | None = None
) -> bytes:
    """A tlog-proof file for ``leaves[index]`` in a tree of ``leaves``, made without a database.

    Its lines: 1 header, 2 extra, 3 index, 4-6 proof hashes, 7 empty, 8-10 checkpoint (origin,
    size, root), 11 empty, 12 signature. ``root_line`` replaces the root line before signing.
    """
    appended = merkle.append_leaves(0, (), [merkle.leaf_hash(leaf) for leaf in leaves])
    nodes = {(level, idx): digest for level, idx, digest in appended.nodes}
    path = merkle.inclusion_proof(index, len(leaves), len(leaves), lambda ids: {i: nodes[i] for i in ids})
    body = note.format_checkpoint(PROOF_ORIGIN, len(leaves), appended.root)
    if root_line is not None:
        origin, size, _, rest = body.split("\n", 3)
        body = "\n".join([origin, size, root_line, rest])
    return proof_file.format_proof(
        proof_file.TlogProof(
            index=index,
            hashes=tuple(path),
            checkpoint=note.sign_note(body, PROOF_SIGNER),
            extra=leaves[index],
        )
    ).encode()


def proof_line(data: bytes, number: int) -> str:
    """Line ``number`` (from 1) of a proof file."""
    return data.decode().split("\n")[number - 1]


def with_proof_line(data: bytes, number: int, line: str) -> bytes:
    """The proof file with line ``number`` (from 1) replaced."""
    lines = data.decode().split("\n")
    lines[number - 1] = line
    return "\n".join(lines).encode()


def with_unused_bits_set(encoded: str) -> str:
    """The same bytes in non-canonical base64: the unused low bits of the last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    data = encoded.rstrip("=")
    padding = len(encoded) - len(data)
    assert padding in (1, 2), "only padded base64 has unused bits"
    last = alphabet.index(data[-1]) | (0b01 if padding == 1 else 0b11)
    changed = data[:-1] + alphabet[last] + "=" * padding
    assert changed != encoded and base64.b64decode(changed) == base64.b64decode(encoded)
    return changed
