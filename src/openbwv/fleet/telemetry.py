"""Telemetry a camera or dock sends about itself, signed in with its device credential.

Each report is an audit event naming the device (so every use of a credential can be traced) and
marks the credential used; a changed reading also joins the device's movement log, as when the
equipment manager reports it (``condition``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv import audit, auth
from openbwv.audit import AuditAction, Target
from openbwv.errors import Forbidden, InvalidInput, NotFound
from openbwv.fleet import condition
from openbwv.fleet.devices import get_device
from openbwv.fleet.models import Device
from openbwv.policy import Actor


def receive_telemetry(
    db: Session,
    actor: Actor,
    *,
    battery_health: int | None = None,
    storage_health: int | None = None,
    online: bool | None = None,
) -> Device:
    """Record what the calling device reports: a camera its battery and storage health, a dock
    whether it is online."""
    if actor.device_serial is None:
        raise Forbidden("Only a device reports its own telemetry.")
    device = get_device(db, actor.device_serial)
    if device is None:
        raise NotFound("device")
    health = battery_health is not None or storage_health is not None
    if device.kind == "camera":
        if online is not None:
            raise InvalidInput("online", "only a dock reports its online state")
        if not health:
            raise InvalidInput("battery_health", "report battery_health, storage_health or both")
        condition.report_health(
            db, actor, serial=device.serial, battery_health=battery_health, storage_health=storage_health
        )
    else:
        if health:
            field = "battery_health" if battery_health is not None else "storage_health"
            raise InvalidInput(field, f"a {device.kind} reports only its online state")
        if online is None:
            raise InvalidInput("online", "report online: true or false")
        condition.set_online(db, actor, serial=device.serial, online=online)
    readings = {"battery_health": battery_health, "storage_health": storage_health, "online": online}
    auth.note_device_credential_used(db, actor)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_TELEMETRY_RECEIVED,
        target=Target("device", device.serial),
        details={k: v for k, v in readings.items() if v is not None},
    )
    return device
