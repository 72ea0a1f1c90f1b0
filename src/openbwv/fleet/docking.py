"""Which dock holds which camera. A dock says so each time it starts an upload of a camera's file:
the camera is in that dock from then until it is issued (it leaves with the officer) or another
dock uploads from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from openbwv.fleet.models import Device


@dataclass(frozen=True)
class DockedCamera:
    serial: str
    state: str
    since: datetime
    """When the dock began its latest upload from the camera."""


def record_docking(db: Session, *, dock_serial: str, camera_serial: str, at: datetime) -> None:
    """Note that the dock ``dock_serial`` holds the camera ``camera_serial`` as of ``at``. Nothing
    happens unless both are in the fleet as that kind, or when a later upload already said where the
    camera is."""
    dock_id = db.scalar(select(Device.id).where(Device.serial == dock_serial, Device.kind == "dock"))
    if dock_id is None:
        return
    db.execute(
        update(Device)
        .where(
            Device.serial == camera_serial.strip().upper(),
            Device.kind == "camera",
            or_(Device.docked_at.is_(None), Device.docked_at <= at),
        )
        .values(docked_in_id=dock_id, docked_at=at)
        .execution_options(synchronize_session=False)
    )


def left_dock(device: Device) -> None:
    """The camera is out of its dock: it has just been issued."""
    device.docked_in_id = None


def cameras_in(db: Session, dock: Device) -> list[DockedCamera]:
    """The cameras the dock holds, by serial."""
    rows = db.execute(
        select(Device.serial, Device.state, Device.docked_at)
        .where(Device.docked_in_id == dock.id)
        .order_by(Device.serial)
    ).all()
    return [DockedCamera(serial, state, since) for serial, state, since in rows if since is not None]


def dock_of(db: Session, camera: Device) -> tuple[str, datetime] | None:
    """The serial of the dock holding the camera, and since when; None when no dock holds it."""
    if camera.docked_in_id is None or camera.docked_at is None:
        return None
    serial = db.scalar(select(Device.serial).where(Device.id == camera.docked_in_id))
    return (serial, camera.docked_at) if serial is not None else None
