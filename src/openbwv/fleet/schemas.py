from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openbwv.inputs import Input

MAX_BAYS = 10


class DeviceIn(Input):
    kind: Literal["camera", "taser", "dock"]
    serial: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    model: str = Field(min_length=1, max_length=80)
    firmware: str | None = Field(default=None, max_length=40)
    station: str | None = Field(default=None, max_length=120)
    pooled: bool = Field(default=False, description="A camera joining its station's pool.")
    slots: int | None = Field(default=None, ge=1, le=64, description="Docks: camera slots.")
    online: bool | None = None


class CartridgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    serial: str
    lot: str
    expires_on: date
    bay: int | None
    discharged: bool
    discharged_at: datetime | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    serial: str
    model: str
    firmware: str | None
    state: str
    station: str | None
    battery_health: int | None
    storage_health: int | None
    slots: int | None
    online: bool | None
    current_issue_id: int | None


class DeviceDetailOut(DeviceOut):
    cartridges: list[CartridgeOut] = []


class StateIn(Input):
    free_text = frozenset({"note"})

    state: Literal["in_stock", "pooled", "in_repair", "lost", "stolen", "retired"]
    note: str | None = Field(default=None, max_length=1000)


class CartridgeIn(Input):
    serial: str = Field(min_length=1, max_length=60)
    lot: str = Field(min_length=1, max_length=60)
    expires_on: date
    bay: int = Field(ge=1, le=MAX_BAYS)


class HealthIn(Input):
    """A camera's health readings; a field left out or null is not reported and stays as it was."""

    battery_health: int | None = Field(default=None, ge=0, le=100, description="Battery health, percent.")
    storage_health: int | None = Field(default=None, ge=0, le=100, description="Storage health, percent.")


class OnlineIn(Input):
    online: bool


class TelemetryIn(Input):
    """What a device reports about itself: a camera its health, a dock its online state."""

    battery_health: int | None = Field(
        default=None, ge=0, le=100, description="Cameras: battery health, percent."
    )
    storage_health: int | None = Field(
        default=None, ge=0, le=100, description="Cameras: storage health, percent."
    )
    online: bool | None = Field(default=None, description="Docks: whether the dock is online.")


class DischargeIn(Input):
    free_text = frozenset({"note"})

    discharged_at: datetime | None = Field(
        default=None, description="When it was fired, with its zone; default now."
    )
    note: str | None = Field(default=None, max_length=1000)


class MovementOut(BaseModel):
    occurred_at: datetime
    action: str
    from_state: str | None
    to_state: str
    officer: str | None
    issue_id: int | None
    actor: str
    note: str | None


class IssueIn(Input):
    device_serial: str = Field(min_length=1, max_length=60)
    collar_number: str = Field(min_length=1, max_length=20)
    kind: Literal["personal", "pooled", "tour"]
    due_back_at: datetime | None = None


class ReturnIn(Input):
    free_text = frozenset({"note"})

    note: str | None = Field(default=None, max_length=1000)


class IssueOut(BaseModel):
    id: int
    device_serial: str
    device_kind: str
    collar_number: str
    kind: str
    issued_at: datetime
    issued_by: str
    due_back_at: datetime | None
    station: str | None
    returned_at: datetime | None
    returned_by: str | None
    overdue: bool


class KitOut(BaseModel):
    collar_number: str
    holding: list[IssueOut]
    history: list[MovementOut]


class RowErrorOut(BaseModel):
    line: int
    reason: str


class ImportReportOut(BaseModel):
    what: str
    dry_run: bool
    rows: int
    imported: int
    skipped: int
    errors: list[RowErrorOut]


class PhaseIn(Input):
    name: str = Field(min_length=1, max_length=120)
    unit: str = Field(min_length=1, max_length=40)
    target_cameras: int = Field(ge=0, le=100_000)
    starts_on: date
    ends_on: date


class PhaseProgressOut(BaseModel):
    id: int
    name: str
    unit: str
    unit_name: str
    target_cameras: int
    starts_on: date
    ends_on: date
    cameras_issued: int
    officers: int
    officers_trained: int


class StationPositionIn(Input):
    """Where a station stands, in WGS84 degrees."""

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class StationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    latitude: float
    longitude: float
    updated_at: datetime
