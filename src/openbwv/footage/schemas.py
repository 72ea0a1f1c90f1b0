from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
