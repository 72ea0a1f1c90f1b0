"""Taser device log imports and entries out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RowErrorOut(BaseModel):
    row: int
    message: str


class DeviceLogImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    import_id: int | None
    dry_run: bool
    format: str
    file_name: str | None
    rows_read: int
    rows_new: int
    rows_stored: int
    rows_duplicate: int
    rows_refused: int
    errors: list[RowErrorOut]
    exceptions_raised: int


class DeviceLogEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    taser_serial: str
    occurred_at: datetime
    kind: str
    sequence: int | None
    duration_s: float | None
    bay: int | None
    battery_percent: int | None
    temperature_c: float | None
    import_id: int
    verdict: str | None
    deployment_id: int | None
    reconciled_at: datetime | None
