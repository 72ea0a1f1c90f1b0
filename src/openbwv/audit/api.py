"""The transparency log's contract for outside verifiers, and the professional standards alerts."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from openbwv.audit import alerts, canonical, log, misuse, proofs, thresholds
from openbwv.audit.models import AuditCheckpoint
from openbwv.audit.schemas import (
    AlertCloseIn,
    AlertDetailOut,
    AlertNoteIn,
    AlertOut,
    AlertRuleOut,
    CheckpointOut,
    ConsistencyProofOut,
    EntriesOut,
    EntryOut,
    InclusionProofOut,
    NoteOut,
    ThresholdIn,
    ThresholdOut,
)
from openbwv.config import Settings
from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import BigRecordId, Count
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require, RequireUnlessPublic

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


AlertState = Literal["open", "acknowledged", "closed"]


def running_rules(request: Request) -> tuple[object, ...]:
    """The misuse rules the installed domains declare: those the misuse job runs."""
    rules: tuple[object, ...] = request.app.state.misuse_rules
    return rules


@router.get("/alerts", response_model=Page[AlertOut], dependencies=[Require(Permission.AUDIT_ALERT_READ)])
def list_alerts(
    db: Db,
    paging: Paging,
    state: Annotated[AlertState | None, Query(description="Only alerts in this state.")] = None,
) -> Page[AlertOut]:
    """Misuse alerts for professional standards, newest first."""
    found, total = misuse.list_alerts(db, limit=paging.limit, offset=paging.offset, state=state)
    return Page(
        items=[AlertOut.model_validate(alert, from_attributes=True) for alert in found],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get(
    "/alerts/{alert_id}", response_model=AlertDetailOut, dependencies=[Require(Permission.AUDIT_ALERT_READ)]
)
def get_alert(alert_id: BigRecordId, db: Db) -> AlertDetailOut:
    """One alert with its handling and its notes, oldest first."""
    alert = misuse.get_alert(db, alert_id)
    if alert is None:
        raise NotFound("alert")
    notes = [NoteOut.model_validate(note, from_attributes=True) for note in alerts.list_notes(db, alert_id)]
    return AlertDetailOut.model_validate({**asdict(alert), "notes": notes})


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(
    alert_id: BigRecordId, db: Db, actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE)
) -> AlertOut:
    """Take an open alert on; an acknowledged or closed one is a conflict naming the rule."""
    return AlertOut.model_validate(alerts.acknowledge_alert(db, actor, alert_id), from_attributes=True)


@router.post("/alerts/{alert_id}/close", response_model=AlertOut)
def close_alert(
    alert_id: BigRecordId, body: AlertCloseIn, db: Db, actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE)
) -> AlertOut:
    """Close an alert with its outcome; a closed alert is a conflict naming the rule."""
    closed = alerts.close_alert(db, actor, alert_id, outcome=body.outcome)
    return AlertOut.model_validate(closed, from_attributes=True)


@router.post("/alerts/{alert_id}/notes", response_model=NoteOut, status_code=201)
def add_note(
    alert_id: BigRecordId, body: AlertNoteIn, db: Db, actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE)
) -> NoteOut:
    """Add a note to an alert; notes are never changed or removed."""
    return NoteOut.model_validate(alerts.add_note(db, actor, alert_id, text=body.text), from_attributes=True)


@router.get(
    "/alert-rules", response_model=list[AlertRuleOut], dependencies=[Require(Permission.AUDIT_ALERT_READ)]
)
def list_alert_rules(request: Request, db: Db) -> list[AlertRuleOut]:
    """The misuse rules that run, each with its thresholds as they stand."""
    return [
        AlertRuleOut(
            name=name, thresholds=[ThresholdOut.model_validate(s, from_attributes=True) for s in settings]
        )
        for name, settings in thresholds.list_settings(db, running_rules(request))
    ]


@router.put("/alert-rules/{rule}/{parameter}", response_model=ThresholdOut)
def set_threshold(
    request: Request,
    rule: Annotated[str, Path(max_length=80)],
    parameter: Annotated[str, Path(max_length=40)],
    body: ThresholdIn,
    db: Db,
    actor: Actor = Require(Permission.AUDIT_ALERT_RULE_WRITE),
) -> ThresholdOut:
    """Change one threshold of a running rule within its bounds; audited with the old and new value."""
    setting = thresholds.set_threshold(
        db, actor, rules=running_rules(request), rule=rule, parameter=parameter, value=body.value
    )
    return ThresholdOut.model_validate(setting, from_attributes=True)
