"""Devices: registering cameras, Tasers and docks, finding them, their history, repair and retirement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from openbwv import audit, auth, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import in_values, refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet.models import DEVICE_KINDS, MISSING_STATES, Cartridge, Device, Issue, Movement, TaserModel
from openbwv.policy import Actor

# States an equipment manager may set by hand; issue and return set "issued" themselves.
SETTABLE_STATES = ("in_stock", "pooled", "in_repair", "lost", "stolen", "retired")
# What each hand-set state is called on a device's page, as the thing done.
STATE_ACTIONS = {
    "in_stock": "Back in stock (found or repaired)",
    "pooled": "Into the station's pool",
    "in_repair": "Send to repair",
    "lost": "Report lost",
    "stolen": "Report stolen",
    "retired": "Retire",
}
RECEIVED_LIMIT = 200


def add_movement(
    db: Session,
    actor: Actor,
    device: Device,
    *,
    action: str,
    to_state: str,
    at: datetime,
    officer_id: int | None = None,
    issue_id: int | None = None,
    note: str | None = None,
) -> Movement:
    """Append a movement and move the device's current state with it, in the same transaction."""
    movement = Movement(
        device_id=device.id,
        occurred_at=at,
        action=action,
        from_state=device.state,
        to_state=to_state,
        officer_id=officer_id,
        issue_id=issue_id,
        actor_username=actor.username,
        note=note,
    )
    device.state = to_state
    db.add(movement)
    return movement


def taser_model(db: Session, model: str) -> TaserModel | None:
    """A Taser model by code or name, ignoring case."""
    wanted = model.strip().lower()
    for row in db.scalars(select(TaserModel)).all():
        if wanted in (row.code.lower(), row.name.lower()):
            return row
    return None


def list_taser_models(db: Session) -> list[TaserModel]:
    return list(db.scalars(select(TaserModel).order_by(TaserModel.code)).all())


def create_device(
    db: Session,
    actor: Actor,
    *,
    kind: str,
    serial: str,
    model: str,
    firmware: str | None = None,
    station: str | None = None,
    pooled: bool = False,
    slots: int | None = None,
    online: bool | None = None,
    now: datetime | None = None,
) -> Device:
    """Register a device received into stock (or straight into a station's pool)."""
    serial = serial.strip().upper()
    if kind not in DEVICE_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(DEVICE_KINDS)}")
    if kind == "taser":
        found = taser_model(db, model)
        if found is None:
            valid = ", ".join(m.code for m in list_taser_models(db))
            raise InvalidInput("model", f"unknown Taser model {model!r}; models are {valid}")
        model = found.code
    if pooled and (kind != "camera" or not station):
        raise InvalidInput("station", "a pooled device must be a camera with the station whose pool it joins")
    taken = Conflict(f"A device with serial {serial} is already registered.", rule="serial_taken")
    if get_device(db, serial) is not None:
        raise taken
    device = Device(
        kind=kind,
        serial=serial,
        model=model.strip(),
        firmware=firmware,
        station=station,
        slots=slots if kind == "dock" else None,
        online=online if kind == "dock" else None,
        state="in_stock",
    )
    with refusing_duplicates(db, {"uq_device_serial": taken}):
        db.add(device)
    received = add_movement(
        db,
        actor,
        device,
        action="received",
        to_state="pooled" if pooled else "in_stock",
        at=now or clock.now(),
    )
    received.from_state = None
    audit.record(db, actor=actor, action=AuditAction.FLEET_DEVICE_CREATED, target=Target("device", serial))
    return device


def receive_device(
    db: Session,
    actor: Actor,
    *,
    kind: str,
    serial: str,
    model: str,
    station: str = "",
    firmware: str = "",
    now: datetime | None = None,
) -> Device:
    """Register one device scanned on the add-devices page, where a field left blank is one not
    known (station, firmware) or one that is missing (serial, model)."""
    if not serial.strip():
        raise InvalidInput("serial", "scan or type the device's serial")
    if not model.strip():
        raise InvalidInput("model", "choose or type the device's model")
    return create_device(
        db,
        actor,
        kind=kind,
        serial=serial,
        model=model,
        station=station.strip() or None,
        firmware=firmware.strip() or None,
        now=now,
    )


def received_today(db: Session, actor: Actor, *, now: datetime | None = None) -> list[Device]:
    """The devices ``actor`` registered today, newest first: the add-devices page's running list."""
    now = now or clock.now()
    start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    return list(
        db.scalars(
            select(Device)
            .join(Movement, Movement.device_id == Device.id)
            .where(
                Movement.actor_username == actor.username,
                Movement.action == "received",
                Movement.occurred_at >= start,
                Movement.occurred_at < start + timedelta(days=1),
            )
            .order_by(Movement.occurred_at.desc(), Movement.id.desc())
            .limit(RECEIVED_LIMIT)
        )
    )


def get_device(db: Session, serial: str, *, lock: bool = False) -> Device | None:
    """The device with ``serial``; with ``lock``, its row stays locked until the transaction ends
    (PostgreSQL; SQLite's writers are already one at a time), read fresh from the database."""
    query = select(Device).where(Device.serial == serial.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.scalar(query)


def devices_by_serial(db: Session, serials: Iterable[str]) -> dict[str, Device]:
    """The devices of ``serials`` (any case), by their stored serial: one query per 5,000, for
    callers that check many serials at once (a batch of telemetry)."""
    wanted = sorted({serial.strip().upper() for serial in serials})
    found: dict[str, Device] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        found.update(
            {d.serial: d for d in db.scalars(select(Device).where(in_values(db, Device.serial, chunk)))}
        )
    return found


def serials_of_kind(db: Session, kind: str, *, among: Iterable[str] | None = None) -> set[str]:
    """The serial of every device of ``kind`` in the fleet (or of those of ``among``, stored
    serials, that are), retired ones included: a retired camera that still speaks is still that
    camera."""
    query = select(Device.serial).where(Device.kind == kind)
    if among is None:
        return set(db.scalars(query))
    wanted = sorted(set(among))
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):
        found.update(db.scalars(query.where(in_values(db, Device.serial, wanted[start : start + 5000]))))
    return found


@dataclass(frozen=True)
class DeviceFilter:
    kind: str | None = None
    state: str | None = None
    model: str | None = None
    station: str | None = None
    search: str | None = None


def list_devices(db: Session, *, where: DeviceFilter, limit: int, offset: int) -> tuple[list[Device], int]:
    """Devices by serial, filtered by kind, state, model, station and a serial fragment."""
    query = select(Device)
    if where.kind:
        query = query.where(Device.kind == where.kind)
    if where.state:
        query = query.where(Device.state == where.state)
    if where.model:
        query = query.where(Device.model == where.model)
    if where.station:
        query = query.where(Device.station == where.station)
    if where.search:
        pattern = f"%{where.search.strip().upper()}%"
        query = query.where(or_(Device.serial.like(pattern), func.upper(Device.model).like(pattern)))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Device.serial).limit(limit).offset(offset)).all()
    return list(rows), total


def list_stations(db: Session) -> list[str]:
    return [s for s in db.scalars(select(Device.station).distinct().order_by(Device.station)).all() if s]


def list_models(db: Session) -> list[str]:
    return list(db.scalars(select(Device.model).distinct().order_by(Device.model)).all())


def device_history(db: Session, device: Device) -> list[Movement]:
    """Every movement of a device, oldest first."""
    return list(
        db.scalars(
            select(Movement)
            .where(Movement.device_id == device.id)
            .order_by(Movement.occurred_at, Movement.id)
        ).all()
    )


def officer_history(db: Session, officer_id: int) -> list[tuple[Movement, Device]]:
    """Every movement of kit to or from an officer, newest first."""
    rows = db.execute(
        select(Movement, Device)
        .join(Device, Device.id == Movement.device_id)
        .where(Movement.officer_id == officer_id)
        .order_by(Movement.occurred_at.desc(), Movement.id.desc())
    ).all()
    return [(m, d) for m, d in rows]


def change_state(
    db: Session,
    actor: Actor,
    *,
    serial: str,
    state: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Device:
    """Send a device to repair, report it lost or stolen, retire it, or put it back in stock or a
    pool. Only a loss or theft may happen while the device is issued: that ends the issue, since
    nobody holds it any more. A retired device's credential is revoked with it."""
    device = get_device(db, serial, lock=True)
    if device is None:
        raise NotFound("device")
    if state not in SETTABLE_STATES:
        raise InvalidInput("state", f"must be one of {', '.join(SETTABLE_STATES)}")
    note = (note or "").strip() or None
    if state in MISSING_STATES and note is None:
        said = "say where and when it was lost" if state == "lost" else "say where and when it was stolen"
        raise InvalidInput("note", said + ("" if state == "lost" else ", and the crime reference"))
    if device.current_issue_id is not None and state not in MISSING_STATES:
        raise Conflict(
            f"{device.kind.capitalize()} {device.serial} is issued; return it before changing its state.",
            rule="device_issued",
        )
    if device.state == "retired":
        raise Conflict(f"{device.kind.capitalize()} {device.serial} is retired.", rule="device_retired")
    if device.state == state:
        raise Conflict(
            f"{device.kind.capitalize()} {device.serial} is already {state.replace('_', ' ')}.",
            rule="state_unchanged",
        )
    if state == "pooled" and (device.kind != "camera" or not device.station):
        raise InvalidInput("state", "only a camera with a station can join that station's pool")
    at = now or clock.now()
    previous = device.state
    details: dict[str, object] = {"from": previous, "to": state}
    issue = db.get(Issue, device.current_issue_id) if device.current_issue_id is not None else None
    if issue is not None:
        issue.returned_at = at
        issue.returned_by = actor.username
        device.current_issue_id = None
        details["issue"] = issue.id
    add_movement(
        db,
        actor,
        device,
        action=f"reported_{state}" if state in MISSING_STATES else "state_changed",
        to_state=state,
        at=at,
        officer_id=issue.officer_id if issue is not None else None,
        issue_id=issue.id if issue is not None else None,
        note=note,
    )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_STATE_CHANGED,
        target=Target("device", device.serial),
        reason=note,
        details=details,
    )
    if state == "retired" and auth.live_device_credential(db, device.id) is not None:
        auth.revoke_device_credential(db, actor, device_id=device.id, serial=device.serial)
    return device


def next_states(device: Device) -> list[tuple[str, str]]:
    """The states a device's page offers to move it to, with what each is called: none once it is
    retired, only lost or stolen while it is out."""
    if device.state == "retired":
        return []
    offered = [
        state
        for state in SETTABLE_STATES
        if state != device.state
        and (device.current_issue_id is None or state in MISSING_STATES)
        and (state != "pooled" or (device.kind == "camera" and device.station))
    ]
    return [(state, STATE_ACTIONS[state]) for state in offered]


def missing_since(db: Session, device: Device) -> Movement | None:
    """The movement that reported a lost or stolen device missing; None for a device that is not."""
    if device.state not in MISSING_STATES:
        return None
    return db.scalar(
        select(Movement)
        .where(Movement.device_id == device.id, Movement.to_state == device.state)
        .order_by(Movement.occurred_at.desc(), Movement.id.desc())
        .limit(1)
    )


def load_cartridge(
    db: Session,
    actor: Actor,
    *,
    taser_serial: str,
    serial: str,
    lot: str,
    expires_on: date,
    bay: int,
    today: date | None = None,
) -> Cartridge:
    """Load a cartridge into a free bay of a Taser, or in place of a discharged one; an expired one is refused."""
    today = today or clock.today()
    device = get_device(db, taser_serial)
    if device is None or device.kind != "taser":
        raise NotFound("Taser")
    model = taser_model(db, device.model)
    bays = model.cartridge_bays if model else 1
    if not 1 <= bay <= bays:
        raise InvalidInput("bay", f"a {device.model} has bays 1 to {bays}")
    if expires_on <= today:
        raise Conflict(
            f"Cartridge {serial} expired on {expires_on.isoformat()}; load one in date.",
            rule="cartridge_expired",
        )
    occupied = Conflict(f"Bay {bay} of Taser {device.serial} already holds a cartridge.", rule="bay_occupied")
    taken = Conflict(f"Cartridge {serial} is already registered.", rule="serial_taken")
    in_bay = next((c for c in cartridges_of(db, device.id) if c.bay == bay), None)
    if in_bay is not None and not in_bay.discharged:
        raise occupied
    if db.scalar(select(Cartridge).where(Cartridge.serial == serial.strip().upper())) is not None:
        raise taken
    now = clock.now()
    replaced = ""
    if in_bay is not None:
        # A discharged cartridge comes out of the bay as the new one goes in; the movement names it.
        in_bay.taser_id = None
        in_bay.bay = None
        replaced = f", replacing discharged {in_bay.serial}"
        db.flush()
    cartridge = Cartridge(
        serial=serial.strip().upper(),
        lot=lot,
        expires_on=expires_on,
        taser_id=device.id,
        bay=bay,
        loaded_at=now,
    )
    with refusing_duplicates(db, {"uq_taser_cartridge_bay": occupied, "uq_taser_cartridge_serial": taken}):
        db.add(cartridge)
    add_movement(
        db,
        actor,
        device,
        action="cartridge_loaded",
        to_state=device.state,
        at=now,
        note=f"bay {bay}: {cartridge.serial}{replaced}",
    )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_CARTRIDGE_LOADED,
        target=Target("device", device.serial),
        details={"cartridge": cartridge.serial, "lot": lot, "bay": bay, "expires_on": expires_on.isoformat()},
    )
    return cartridge


def cartridges_of(db: Session, taser_id: int) -> list[Cartridge]:
    return list(
        db.scalars(select(Cartridge).where(Cartridge.taser_id == taser_id).order_by(Cartridge.bay)).all()
    )


def bays_of(db: Session, taser: Device) -> list[tuple[int, Cartridge | None]]:
    """Every bay of a Taser, by number, with the cartridge in it (None for an empty bay)."""
    model = taser_model(db, taser.model)
    in_bays = {c.bay: c for c in cartridges_of(db, taser.id)}
    return [(bay, in_bays.get(bay)) for bay in range(1, (model.cartridge_bays if model else 1) + 1)]


def officer_names(db: Session, officer_ids: list[int | None]) -> dict[int, str]:
    """'collar name' labels for showing movements."""
    found = people.officers_by_ids(db, [i for i in officer_ids if i is not None])
    return {i: f"{o.collar_number} {o.name}" for i, o in found.items()}


def officer_collars(db: Session, officer_ids: list[int]) -> dict[int, str]:
    return {i: o.collar_number for i, o in people.officers_by_ids(db, officer_ids).items()}
