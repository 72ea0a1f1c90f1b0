"""Live telemetry tables: the latest state of each camera, and the history of its positions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base

SERIAL_LENGTH = 60
EVENT_LENGTH = 30


class CameraLiveState(Base):
    """What a camera last said about itself: one row per camera (the serial is the key), replaced
    only by a newer message, so a late or replayed one never moves a camera back."""

    __tablename__ = "live_camera_state"

    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), primary_key=True)
    ts: Mapped[datetime]
    received_at: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    recording: Mapped[bool]
    battery_pct: Mapped[float] = mapped_column(Float)
    storage_pct: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    event: Mapped[str | None] = mapped_column(String(EVENT_LENGTH))

    __table_args__ = (Index("ix_live_camera_state_ts", "ts"),)


class PositionRecord(Base):
    """One accepted message, kept for the history's retention (``OPENBWV_LIVE_HISTORY_DAYS``)."""

    __tablename__ = "live_position"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    ts: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    recording: Mapped[bool]
    battery_pct: Mapped[float] = mapped_column(Float)
    storage_pct: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    event: Mapped[str | None] = mapped_column(String(EVENT_LENGTH))

    __table_args__ = (
        Index("ix_live_position_serial_ts", "serial", "ts"),
        Index("ix_live_position_ts", "ts"),
    )
