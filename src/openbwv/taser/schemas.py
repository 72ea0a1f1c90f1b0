"""Taser deployment reports in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from openbwv.inputs import Input
from openbwv.taser.models import CODE_LENGTH, COMMENT_LENGTH, GENDER_LENGTH, INCIDENT_LENGTH, SERIAL_LENGTH
from openbwv.taser.vocabulary import LEVELS, SELF_DEFINED_ETHNICITY_PATTERN

MAX_CARTRIDGES = 10
"""The most cartridges any model holds (a Taser 10's probes); the model's own bays bound it further."""
MAX_CODES = 20
COLLAR_LENGTH = 20


class DeploymentIn(Input):
    """A Taser deployment report as the officer (or their supervisor) files it."""

    collar_number: str = Field(min_length=1, max_length=COLLAR_LENGTH)
    taser_serial: str = Field(min_length=1, max_length=SERIAL_LENGTH)
    occurred_at: datetime = Field(description="When the Taser was used, with its zone.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    location_type: str = Field(max_length=CODE_LENGTH)
    incident_number: str = Field(min_length=1, max_length=INCIDENT_LENGTH)
    levels: list[str] = Field(
        max_length=MAX_CODES, description=f"Every level used, in order: {', '.join(LEVELS)}."
    )
    cartridges_discharged: int = Field(default=0, ge=0, le=MAX_CARTRIDGES)
    cartridge_bays: list[Annotated[int, Field(ge=1, le=MAX_CARTRIDGES)]] = Field(
        default_factory=list,
        max_length=MAX_CARTRIDGES,
        description="The bay of each cartridge discharged, one per cartridge.",
    )
    reasons: list[str] = Field(min_length=1, max_length=MAX_CODES)
    impact_factors: list[str] = Field(default_factory=list, max_length=MAX_CODES)
    subject_age_band: str | None = Field(default=None, max_length=CODE_LENGTH)
    subject_gender: str | None = Field(default=None, max_length=GENDER_LENGTH)
    subject_ethnicity: str | None = Field(default=None, max_length=CODE_LENGTH)
    subject_self_defined_ethnicity: str | None = Field(
        default=None, pattern=SELF_DEFINED_ETHNICITY_PATTERN, max_length=2
    )
    subject_injured: bool = False
    subject_medical_attention: bool = False
    officer_injured: bool = False
    officer_medical_attention: bool = False
    officer_assaulted: bool = False
    outcome: str = Field(max_length=CODE_LENGTH)


class LinkedClipOut(BaseModel):
    """A clip linked to a report as footage of the use, and why."""

    clip_id: int
    reason: str = Field(description="own_camera, nearby_track or nearby_telemetry.")
    camera_serial: str
    recorded_at: datetime
    ended_at: datetime
    linked_at: datetime


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    collar_number: str
    taser_serial: str
    occurred_at: datetime
    lat: float
    lon: float
    location_type: str
    incident_number: str
    levels: list[str]
    highest_level: str
    discharge: bool
    cartridges_discharged: int
    cartridge_bays: list[int]
    reasons: list[str]
    impact_factors: list[str]
    subject_age_band: str | None
    subject_gender: str | None
    subject_ethnicity: str | None
    subject_self_defined_ethnicity: str | None
    subject_injured: bool
    subject_medical_attention: bool
    officer_injured: bool
    officer_medical_attention: bool
    officer_assaulted: bool
    outcome: str
    status: str = Field(description="submitted, returned or signed_off.")
    version: int
    filed_by: str
    created_at: datetime
    updated_at: datetime | None
    signed_off_by: str | None
    signed_off_at: datetime | None
    clips: list[LinkedClipOut]


class ReturnIn(Input):
    comment: str = Field(
        min_length=1, max_length=COMMENT_LENGTH, description="What the officer should put right."
    )


class VersionOut(BaseModel):
    """A replaced version of a report, as it was."""

    version: int
    content: dict[str, Any]
    signed_off_by: str | None
    signed_off_at: datetime | None
    replaced_by: str
    replaced_at: datetime


class ReviewOut(BaseModel):
    version: int
    decision: str
    comment: str | None
    reviewer: str
    reviewed_at: datetime


class HistoryOut(BaseModel):
    """A report's earlier versions and its supervisors' decisions."""

    versions: list[VersionOut]
    reviews: list[ReviewOut]


class ExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    deployment_id: int | None
    taser_serial: str
    occurred_at: datetime
    details: dict[str, Any]
    raised_at: datetime
    explanation: str | None
    explanation_text: str | None
    explained_by: str | None
    explained_at: datetime | None


class ExplanationIn(Input):
    explanation: str = Field(min_length=1, max_length=CODE_LENGTH)
    text: str | None = Field(default=None, max_length=COMMENT_LENGTH)


class SettingOut(BaseModel):
    name: str
    label: str
    unit: str
    value: float
    default: float
    low: float
    high: float


class SettingIn(Input):
    value: float = Field(allow_inf_nan=False)


class RecordCommandOut(BaseModel):
    """A camera told to record because a Taser was armed, and what became of the message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str = Field(description="Where the arming was heard: telemetry or device_log.")
    reported_by: str = Field(description="The camera (telemetry) or Taser (device log) that reported it.")
    taser_serial: str | None
    armed_at: datetime
    lat: float | None
    lon: float | None
    camera_serial: str = Field(description="The camera told to record.")
    reason: str = Field(description="own_camera, or within_radius of the arming.")
    distance_m: float | None
    radius_m: float = Field(description="The record_radius_m setting when the arming was acted on.")
    commanded_at: datetime
    sent_at: datetime | None = Field(description="When the broker took the message; null until then.")
    failure: str | None = Field(description="Why the message was not sent, if it was not.")
