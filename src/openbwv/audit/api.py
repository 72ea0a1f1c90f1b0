"""The transparency log's contract for outside verifiers, and the professional standards alerts."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query, Request

from openbwv.audit import canonical, log, misuse, proofs
from openbwv.audit.models import AuditCheckpoint
from openbwv.audit.schemas import (
    AlertOut,
    CheckpointOut,
    ConsistencyProofOut,
    EntriesOut,
    EntryOut,
    InclusionProofOut,
)
from openbwv.config import Settings
from openbwv.db import Db
from openbwv.errors import API_ERRORS
from openbwv.inputs import Count
from openbwv.paging import Page, Paging
from openbwv.policy import Permission, Require, RequireUnlessPublic

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=API_ERRORS)
CHECKPOINT_READERS = RequireUnlessPublic(Permission.AUDIT_EVENT_READ, "audit_public_checkpoints")
ENTRY_READERS = RequireUnlessPublic(Permission.AUDIT_EVENT_READ, "audit_public_entries")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint_out(checkpoint: AuditCheckpoint, settings: Settings) -> CheckpointOut:
    return CheckpointOut(
        tree_size=checkpoint.tree_size,
        root_hash=b64(checkpoint.root_hash),
        timestamp=checkpoint.created_at,
        note=checkpoint.note,
        verifier_key=log.verifier_key(settings),
    )


@router.get("/checkpoint", response_model=CheckpointOut, dependencies=[CHECKPOINT_READERS])
def get_checkpoint(
    request: Request,
    db: Db,
    tree_size: Annotated[
        Count | None, Query(description="A past checkpoint's size; default the latest.")
    ] = None,
) -> CheckpointOut:
    """The latest signed checkpoint, or the one for ``tree_size``."""
    return checkpoint_out(proofs.get_checkpoint(db, tree_size), request.app.state.settings)


@router.get("/entries", response_model=EntriesOut, dependencies=[ENTRY_READERS])
def get_entries(
    db: Db,
    start: Annotated[Count, Query(description="First leaf index.")],
    end: Annotated[Count, Query(ge=1, description="Leaf index after the last; at most start + 1000.")],
) -> EntriesOut:
    """Leaves ``[start, end)`` in order, each with its event and the exact bytes that were hashed."""
    entries = proofs.list_entries(db, start=start, end=end)
    return EntriesOut(
        entries=[
            EntryOut(
                leaf_index=entry.leaf_index,
                event_id=entry.event["id"],
                **{name: entry.event[name] for name in canonical.FIELDS if name != "id"},
                leaf_b64=b64(entry.leaf),
            )
            for entry in entries
        ]
    )


@router.get("/proof/inclusion", response_model=InclusionProofOut, dependencies=[CHECKPOINT_READERS])
def get_inclusion_proof(
    db: Db,
    leaf_index: Annotated[Count, Query()],
    tree_size: Annotated[
        Count | None, Query(ge=1, description="Default: the latest checkpoint's size.")
    ] = None,
) -> InclusionProofOut:
    """The inclusion proof of one leaf in the tree of ``tree_size`` leaves (RFC 9162 section 2.1.3)."""
    size, path = proofs.inclusion_proof(db, leaf_index=leaf_index, tree_size=tree_size)
    return InclusionProofOut(leaf_index=leaf_index, tree_size=size, audit_path=[b64(h) for h in path])


@router.get("/proof/consistency", response_model=ConsistencyProofOut, dependencies=[CHECKPOINT_READERS])
def get_consistency_proof(
    db: Db, first: Annotated[Count, Query(ge=1)], second: Annotated[Count, Query(ge=1)]
) -> ConsistencyProofOut:
    """The consistency proof between two tree sizes (RFC 9162 section 2.1.4)."""
    path = proofs.consistency_proof(db, first=first, second=second)
    return ConsistencyProofOut(first=first, second=second, consistency=[b64(h) for h in path])


@router.get("/alerts", response_model=Page[AlertOut], dependencies=[Require(Permission.AUDIT_ALERT_READ)])
def list_alerts(db: Db, paging: Paging) -> Page[AlertOut]:
    """Misuse alerts for professional standards, newest first."""
    alerts, total = misuse.list_alerts(db, limit=paging.limit, offset=paging.offset)
    return Page(
        items=[AlertOut.model_validate(alert, from_attributes=True) for alert in alerts],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
