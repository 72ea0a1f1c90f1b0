"""Request and answer bodies of ``/api/v1/access``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from openbwv.access.grants import INCIDENT_LENGTH, NOTE_LENGTH, RECORD_ID_LENGTH, RECORD_KIND_LENGTH
from openbwv.access.models import AccessKind
from openbwv.access.reasons import CODE_LENGTH, DESCRIPTION_LENGTH, LABEL_LENGTH
from openbwv.inputs import Input


class ReasonIn(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"description"})

    code: str = Field(min_length=2, max_length=CODE_LENGTH, description="Short slug, e.g. officer-safety.")
    label: str = Field(min_length=1, max_length=LABEL_LENGTH)
    description: str = Field(default="", max_length=DESCRIPTION_LENGTH)
    permits: list[AccessKind] = Field(min_length=1, max_length=len(AccessKind))
    forbids: list[AccessKind] = Field(default_factory=list, max_length=len(AccessKind))


class ReasonUpdate(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"description"})

    label: str | None = Field(default=None, min_length=1, max_length=LABEL_LENGTH)
    description: str | None = Field(default=None, max_length=DESCRIPTION_LENGTH)
    permits: list[AccessKind] | None = Field(default=None, max_length=len(AccessKind))
    forbids: list[AccessKind] | None = Field(default=None, max_length=len(AccessKind))


class ReasonOut(BaseModel):
    code: str
    label: str
    description: str
    permits: list[AccessKind]
    forbids: list[AccessKind]
    active: bool


class GrantIn(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"note"})

    record_kind: str = Field(
        min_length=1, max_length=RECORD_KIND_LENGTH, description="The kind of record, e.g. footage or camera."
    )
    record_id: str = Field(min_length=1, max_length=RECORD_ID_LENGTH)
    kind: AccessKind
    reason_code: str = Field(min_length=1, max_length=CODE_LENGTH)
    incident_number: str | None = Field(
        default=None, max_length=INCIDENT_LENGTH, description="Give this, the note, or both."
    )
    note: str | None = Field(default=None, max_length=NOTE_LENGTH, description="Why, in a few words.")
    minutes: int | None = Field(
        default=None, ge=1, le=24 * 60, description="How long; by default the force's setting (8 hours)."
    )


class RenewIn(Input):
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)


class GrantOut(BaseModel):
    id: int
    username: str
    record_kind: str
    record_id: str
    kind: str
    reason_code: str
    incident_number: str | None
    note: str | None
    granted_at: datetime
    expires_at: datetime
    renewed_count: int
    ended_at: datetime | None
    ended_by: str | None
    state: str = Field(description="live, expired or ended")
