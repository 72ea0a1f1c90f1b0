"""Taser deployment reports in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from openbwv.inputs import Input
from openbwv.taser.models import CODE_LENGTH, GENDER_LENGTH, INCIDENT_LENGTH, SERIAL_LENGTH
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
    status: str
    filed_by: str
    created_at: datetime
