"""Device condition: camera battery and storage health, dock online state, discharged cartridges.

A dock integration or the equipment manager reports them; each change is appended to the device's
movement log (dated, attributed, state unchanged) in the same transaction as the new value, so the
history says what a reading was before and who changed it. A report that changes nothing adds no row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet.devices import add_movement, cartridges_of, get_device, taser_model
from openbwv.fleet.models import Cartridge, Device, Issue
from openbwv.policy import Actor


def _device_of_kind(db: Session, serial: str, kind: str, what: str) -> Device:
    device = get_device(db, serial)
    if device is None:
        raise NotFound("device")
    if device.kind != kind:
        raise Conflict(
            f"{device.serial} is a {device.kind}; only a {kind} reports {what}.", rule=f"not_a_{kind}"
        )
    return device


def _percent(value: int | None) -> str:
    return "unknown" if value is None else f"{value}%"


def report_health(
    db: Session,
    actor: Actor,
    *,
    serial: str,
    battery_health: int | None = None,
    storage_health: int | None = None,
    now: datetime | None = None,
) -> Device:
    """Record a camera's battery and/or storage health (0-100); a value left out stays as it was."""
    device = _device_of_kind(db, serial, "camera", "battery and storage health")
    readings = {"battery_health": battery_health, "storage_health": storage_health}
    for field, value in readings.items():
        if value is not None and not 0 <= value <= 100:
            raise InvalidInput(field, "must be a percentage from 0 to 100")
    if battery_health is None and storage_health is None:
        raise InvalidInput("battery_health", "report battery_health, storage_health or both")
    changes: dict[str, dict[str, int | None]] = {}
    for field, value in readings.items():
        before = getattr(device, field)
        if value is not None and value != before:
            changes[field] = {"from": before, "to": value}
            setattr(device, field, value)
    if not changes:
        return device
    note = "; ".join(
        f"{field.removesuffix('_health')} {_percent(change['from'])} → {_percent(change['to'])}"
        for field, change in changes.items()
    )
    add_movement(
        db, actor, device, action="health_reported", to_state=device.state, at=now or clock.now(), note=note
    )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_CONDITION_REPORTED,
        target=Target("device", device.serial),
        details=dict(changes),
    )
    return device


def set_online(
    db: Session, actor: Actor, *, serial: str, online: bool, now: datetime | None = None
) -> Device:
    """Record that a dock went online or offline."""
    device = _device_of_kind(db, serial, "dock", "online state")
    if device.online is online:
        return device
    before = device.online
    device.online = online
    add_movement(
        db,
        actor,
        device,
        action="went_online" if online else "went_offline",
        to_state=device.state,
        at=now or clock.now(),
    )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_CONDITION_REPORTED,
        target=Target("device", device.serial),
        details={"online": {"from": before, "to": online}},
    )
    return device


def discharge_cartridge(
    db: Session,
    actor: Actor,
    *,
    taser_serial: str,
    bay: int,
    discharged_at: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Cartridge:
    """Mark the cartridge in a bay of a Taser discharged, with the time; the Taser is not issued again
    until the cartridge is replaced."""
    now = now or clock.now()
    at = discharged_at or now
    device = _device_of_kind(db, taser_serial, "taser", "cartridge discharges")
    model = taser_model(db, device.model)
    bays = model.cartridge_bays if model else 1
    if not 1 <= bay <= bays:
        raise InvalidInput("bay", f"a {device.model} has bays 1 to {bays}")
    if at > now:
        raise InvalidInput("discharged_at", f"{at.isoformat()} is in the future")
    cartridge = next((c for c in cartridges_of(db, device.id) if c.bay == bay), None)
    if cartridge is None:
        raise Conflict(f"Bay {bay} of Taser {device.serial} holds no cartridge.", rule="bay_empty")
    if cartridge.discharged:
        when = cartridge.discharged_at
        raise Conflict(
            f"Cartridge {cartridge.serial} in bay {bay} of Taser {device.serial} was already discharged"
            f"{' at ' + when.strftime('%Y-%m-%d %H:%M') + ' UTC' if when else ''}; load a new one first.",
            rule="cartridge_already_discharged",
        )
    cartridge.discharged = True
    cartridge.discharged_at = at
    issue = _issue_at(db, device, at)
    detail = f"bay {bay}: {cartridge.serial}"
    add_movement(
        db,
        actor,
        device,
        action="cartridge_discharged",
        to_state=device.state,
        at=at,
        officer_id=issue.officer_id if issue else None,
        issue_id=issue.id if issue else None,
        note=f"{detail}; {note}" if note else detail,
    )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_CARTRIDGE_DISCHARGED,
        target=Target("device", device.serial),
        reason=note,
        details={"cartridge": cartridge.serial, "bay": bay, "discharged_at": at.isoformat()},
    )
    return cartridge


def _issue_at(db: Session, device: Device, at: datetime) -> Issue | None:
    """The issue the Taser is out on, if it was already out at ``at``: the discharge then shows in
    that officer's kit history too."""
    if device.current_issue_id is None:
        return None
    issue = db.get(Issue, device.current_issue_id)
    return issue if issue is not None and issue.issued_at <= at else None
