from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openbwv.inputs import Input


class ClipOut(BaseModel):
    id: int
    sha256: str
    size: int
    camera_serial: str
    collar_number: str | None
    recorded_at: datetime
    ingest_state: str
    review_reason: str | None
    duration_s: float | None
    codec: str | None
    width: int | None
    height: int | None
    frame_rate: float | None
    started_at: datetime | None
    has_gps_track: bool
    category: str | None = None
    incident_number: str | None = None
    evidence_flag: bool = False
    legal_hold: bool = False
    case_reference: str | None = None
    deleted_at: datetime | None = None
    deletion_rule: str | None = None
    destroyed_at: datetime | None = None
    latitude: float | None = Field(default=None, description="Where to show the clip on a map.")
    longitude: float | None = None


class ClipSearchOut(BaseModel):
    """A page of a search; ``next_cursor`` fetches the next (null at the end). ``total`` counts the
    matches up to 10,000; ``total_exact`` is false when there are more."""

    items: list[ClipOut]
    next_cursor: str | None
    total: int
    total_exact: bool
    limit: int


class CategoryOut(BaseModel):
    code: str
    label: str
    retention_days: int | None
    mopi_group: int | None
    review_years: int | None
    is_default: bool
    is_active: bool


class ClipTagsUpdate(Input):
    """The fields given are changed; a field left out is kept. ``category`` null: untagged."""

    free_text = frozenset({"note"})

    category: str | None = Field(default=None, max_length=40)
    incident_number: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=500)


class EvidenceFlagIn(Input):
    free_text = frozenset({"reason"})

    flagged: bool
    reason: str = Field(min_length=1, max_length=500)


class LegalHoldIn(Input):
    free_text = frozenset({"reason"})

    held: bool
    reason: str = Field(min_length=1, max_length=500)


class CaseLinkIn(Input):
    free_text = frozenset({"reason"})

    case_reference: str | None = Field(max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class RestoreIn(Input):
    free_text = frozenset({"reason"})

    reason: str = Field(min_length=1, max_length=500)
