from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, StrictInt

from openbwv.inputs import MAX_INT32, Input


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="Standard base64 of the RFC 9162 root hash.")
    timestamp: datetime = Field(description="When the checkpoint was signed (not part of the signed note).")
    note: str = Field(description="The C2SP tlog-checkpoint signed note.")
    verifier_key: str = Field(description="The C2SP signed-note verifier key that checks the note.")


class EntryOut(BaseModel):
    leaf_index: int
    event_id: int
    occurred_at: datetime
    actor_username: str
    actor_user_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    reason: str | None
    details: Any
    client_address: str | None
    request_id: str | None
    leaf_b64: str = Field(
        description="Base64 of the exact canonical bytes whose RFC 9162 leaf hash is in the tree."
    )


class EntriesOut(BaseModel):
    entries: list[EntryOut]


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    audit_path: list[str] = Field(description="Base64 hashes, leaf end first (RFC 9162 section 2.1.3).")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    consistency: list[str] = Field(description="Base64 hashes (RFC 9162 section 2.1.4).")


class AlertOut(BaseModel):
    event_id: int
    raised_at: datetime
    rule: str
    subject: str
    summary: str
    event_ids: list[int]
    state: Literal["open", "acknowledged", "closed"]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    outcome: str | None


class NoteOut(BaseModel):
    id: int
    author: str
    written_at: datetime
    text: str


class AlertDetailOut(AlertOut):
    notes: list[NoteOut]


class AlertCloseIn(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"outcome"})

    outcome: str = Field(max_length=2000, description="What was found and what was done.")


class AlertNoteIn(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"text"})

    text: str = Field(max_length=2000)


class ThresholdOut(BaseModel):
    rule: str
    parameter: str
    value: int
    default: int
    low: int
    high: int
    unit: str
    changed_by: str | None
    changed_at: datetime | None


class AlertRuleOut(BaseModel):
    name: str
    thresholds: list[ThresholdOut]


class ThresholdIn(Input):
    value: StrictInt = Field(ge=1, le=MAX_INT32, description="A whole number within the threshold's bounds.")
