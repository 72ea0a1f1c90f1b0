"""Stations' positions: a station is named by text on devices and units; one with a position lets
footage without a track of its own be placed where its camera is kept."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput
from openbwv.fleet.models import Device, Station
from openbwv.policy import Actor

STATION_NAME_LENGTH = 120


def checked_position(latitude: float, longitude: float) -> tuple[float, float]:
    """``(latitude, longitude)`` in degrees, or ``InvalidInput`` naming the one that is no position."""
    if not math.isfinite(latitude) or not -90 <= latitude <= 90:
        raise InvalidInput("latitude", "A latitude is a number of degrees from -90 to 90.")
    if not math.isfinite(longitude) or not -180 <= longitude <= 180:
        raise InvalidInput("longitude", "A longitude is a number of degrees from -180 to 180.")
    return latitude, longitude


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > STATION_NAME_LENGTH:
        raise InvalidInput("name", f"A station's name is 1 to {STATION_NAME_LENGTH} characters.")
    return name


def set_station_position(
    db: Session, actor: Actor, *, name: str, latitude: float, longitude: float
) -> Station:
    """Record where the station ``name`` stands (adding the station if it has no position yet);
    audited with the position it had before."""
    name = _checked_name(name)
    latitude, longitude = checked_position(latitude, longitude)
    station = db.scalar(select(Station).where(Station.name == name).with_for_update())
    before = None if station is None else {"latitude": station.latitude, "longitude": station.longitude}
    if station is None:
        station = Station(name=name, latitude=latitude, longitude=longitude, updated_at=clock.now())
        raced = Conflict(f"Station {name} was given a position at the same moment; try again.")
        with refusing_duplicates(db, {"uq_station_name": raced}):
            db.add(station)
    else:
        station.latitude, station.longitude, station.updated_at = latitude, longitude, clock.now()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_STATION_POSITION_SET,
        target=Target("station", name),
        details={"before": before, "latitude": latitude, "longitude": longitude},
    )
    return station


def list_station_positions(db: Session) -> list[Station]:
    """Every station with a position, by name."""
    return list(db.scalars(select(Station).order_by(Station.name)))


def station_position(db: Session, name: str | None) -> tuple[float, float] | None:
    """Where the station ``name`` stands, or None when it has no position."""
    if not name or not name.strip():
        return None
    row = db.execute(select(Station.latitude, Station.longitude).where(Station.name == name.strip())).first()
    return (row[0], row[1]) if row is not None else None


def camera_station_position(db: Session, serial: str) -> tuple[float, float] | None:
    """Where the station of the device ``serial`` stands, or None (no such device, no station, or a
    station with no position)."""
    row = db.execute(
        select(Station.latitude, Station.longitude)
        .join(Device, Device.station == Station.name)
        .where(Device.serial == serial.strip().upper())
    ).first()
    return (row[0], row[1]) if row is not None else None
