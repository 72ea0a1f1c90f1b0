"""Devices (cameras, Tasers, docks), Taser cartridges, issues and the append-only movement log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from openbwv import clock
from openbwv.db import Base, partial_index

DEVICE_KINDS = ("camera", "taser", "dock")
DEVICE_STATES = ("in_stock", "issued", "pooled", "in_repair", "lost", "stolen", "retired")
# States in which a device is missing: it cannot be issued until it is found and put back in stock.
MISSING_STATES = ("lost", "stolen")
ISSUE_KINDS = ("personal", "pooled", "tour")


class TaserModel(Base):
    """A conducted energy device model, seeded as data (X2, Taser 7, Taser 10)."""

    __tablename__ = "taser_model"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    cartridge_bays: Mapped[int]


class Device(Base):
    """A camera, Taser or dock. ``state`` and ``current_issue_id`` mirror the latest movement."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    model: Mapped[str] = mapped_column(String(80))
    firmware: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="in_stock")
    station: Mapped[str | None] = mapped_column(String(120))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    battery_health: Mapped[int | None]
    storage_health: Mapped[int | None]
    slots: Mapped[int | None]
    online: Mapped[bool | None]
    current_issue_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    docked_in_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    """A camera's dock, as its latest upload through a dock said; cleared when the camera is issued."""
    docked_at: Mapped[datetime | None]
    """When that upload began."""

    __table_args__ = (
        Index("ix_device_kind_state", "kind", "state"),
        Index("ix_device_model", "model"),
        Index("ix_device_station", "station"),
    )


class Issue(Base):
    """A device in an officer's hands: personal issue, a pooled check-out or a tour of duty."""

    __tablename__ = "device_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # The device's kind, copied at issue so that "one personal camera per officer" can be an index.
    device_kind: Mapped[str | None] = mapped_column(String(10))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(150))
    due_back_at: Mapped[datetime | None]
    station: Mapped[str | None] = mapped_column(String(120))
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[str | None] = mapped_column(String(150))

    __table_args__ = (
        Index("ix_device_issue_open", "returned_at", "device_id"),
        Index(
            "uq_device_issue_open_device", "device_id", unique=True, **partial_index("returned_at IS NULL")
        ),
        Index(
            "uq_device_issue_personal_camera",
            "officer_id",
            unique=True,
            **partial_index("returned_at IS NULL AND kind = 'personal' AND device_kind = 'camera'"),
        ),
    )


class Movement(Base):
    """One dated, attributed change of a device: rows are only ever inserted."""

    __tablename__ = "device_movement"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("device_issue.id"))
    actor_username: Mapped[str] = mapped_column(String(150))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_device_movement_device", "device_id", "occurred_at"),
        Index("ix_device_movement_officer", "officer_id", "occurred_at"),
        # The counter's and the add-devices page's "yours today" lists.
        Index("ix_device_movement_actor", "actor_username", "occurred_at"),
    )


class Cartridge(Base):
    """A Taser cartridge: lot, expiry, the bay of the Taser it is loaded in, discharged or not."""

    __tablename__ = "taser_cartridge"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    lot: Mapped[str] = mapped_column(String(60))
    expires_on: Mapped[date]
    taser_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    bay: Mapped[int | None]
    discharged: Mapped[bool] = mapped_column(default=False)
    discharged_at: Mapped[datetime | None]
    loaded_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_taser_cartridge_bay", "taser_id", "bay", unique=True, **partial_index("taser_id IS NOT NULL")
        ),
    )


class RolloutPhase(Base):
    """One phase of the camera roll-out: a unit, a target count and the dates it runs."""

    __tablename__ = "rollout_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    target_cameras: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (UniqueConstraint("name", "unit_id"),)


class Station(Base):
    """Where a station stands: devices and units name stations by text (``Device.station``), and a
    station with a row here has a position, so that footage without a track of its own can be
    placed at its camera's station."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
    )
