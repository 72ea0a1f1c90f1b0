"""The counter: one scan decides between taking a device back and issuing it, the day's transactions
at the counter, and undoing the last one while it is fresh.

"This counter" is the signed-in account: the person behind it sees what they did today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound, OpenbwvError
from openbwv.fleet import docking
from openbwv.fleet.devices import add_movement, get_device
from openbwv.fleet.issues import check_issuable, issue_device, return_issue
from openbwv.fleet.models import Device, Issue, Movement
from openbwv.policy import Actor

# What a counter does, and what undoing it records.
TRANSACTIONS = ("issued", "checked_out", "returned", "checked_in")
UNDOS = ("issue_undone", "return_undone")
UNDO_WINDOW = timedelta(minutes=1)
TODAY_LIMIT = 100


# Refusals about the officer rather than the device: the counter puts the cursor in the collar field.
OFFICER_RULES = frozenset(
    {
        "bwv_training_required",
        "not_eligible",
        "not_volunteer",
        "officer_already_has_camera",
        "officer_left",
        "taser_authority_lapsed",
        "taser_authority_required",
    }
)
COUNTER_FIELDS = {
    "serial": "serial",
    "device_serial": "serial",
    "collar_number": "collar_number",
    "kind": "kind",
}


class NoSuch(NotFound):
    """Nothing matches what was typed in ``field``; the message repeats it."""

    def __init__(self, what: str, *, field: str) -> None:
        super().__init__(what)
        self.field = field


def field_at_fault(refusal: OpenbwvError) -> str:
    """The counter's field a refusal is about: where the cursor goes to put it right."""
    if isinstance(refusal, NoSuch | InvalidInput):
        return COUNTER_FIELDS.get(refusal.field, "serial")
    if isinstance(refusal, Conflict) and refusal.rule in OFFICER_RULES:
        return "collar_number"
    return "serial"


@dataclass(frozen=True)
class Identity:
    """The line that tells the person at the counter they have the right officer."""

    collar_number: str
    name: str
    unit: str


@dataclass(frozen=True)
class Transaction:
    movement: Movement
    device: Device
    officer: Identity | None
    undoable: bool


@dataclass(frozen=True)
class Scanned:
    """What a scan did: ``movement`` when it issued or took back the device; otherwise ``device``
    is free to issue and the counter needs the officer's collar number."""

    device: Device
    movement: Movement | None


def _identity(db: Session, officer_id: int | None) -> Identity | None:
    if officer_id is None:
        return None
    officer = people.get_officer_by_id(db, officer_id)
    if officer is None:
        return None
    return Identity(collar_number=officer.collar_number, name=officer.name, unit=officer.unit.name)


def _movement_of(db: Session, issue_id: int) -> Movement:
    db.flush()
    movement = db.scalar(
        select(Movement).where(Movement.issue_id == issue_id).order_by(Movement.id.desc()).limit(1)
    )
    assert movement is not None
    return movement


def scan(
    db: Session,
    actor: Actor,
    *,
    serial: str,
    collar_number: str = "",
    kind: str = "",
    now: datetime | None = None,
) -> Scanned:
    """Act on a scanned serial: with no collar number, a device that is out comes back and one that
    is free asks for the officer; with one, the device is issued. ``kind`` left empty issues a
    pooled camera as a check-out and anything else personally."""
    now = now or clock.now()
    typed = serial.strip()
    if not typed:
        raise InvalidInput("serial", "scan or type the device's serial")
    device = get_device(db, typed)
    if device is None:
        raise NoSuch(f"device: {typed}", field="serial")
    collar = collar_number.strip()
    if not collar:
        if device.current_issue_id is not None:
            issue = return_issue(db, actor, issue_id=device.current_issue_id, now=now)
            return Scanned(device=device, movement=_movement_of(db, issue.id))
        check_issuable(db, device)
        return Scanned(device=device, movement=None)
    if people.get_officer(db, collar) is None:
        raise NoSuch(f"officer with collar number {collar}", field="collar_number")
    kind = kind or ("pooled" if device.state == "pooled" else "personal")
    issue = issue_device(db, actor, device_serial=device.serial, collar_number=collar, kind=kind, now=now)
    return Scanned(device=device, movement=_movement_of(db, issue.id))


def _todays(db: Session, actor: Actor, now: datetime) -> list[tuple[Movement, Device]]:
    start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    rows = db.execute(
        select(Movement, Device)
        .join(Device, Device.id == Movement.device_id)
        .where(
            Movement.actor_username == actor.username,
            Movement.occurred_at >= start,
            Movement.occurred_at < start + timedelta(days=1),
            Movement.action.in_(TRANSACTIONS + UNDOS),
        )
        .order_by(Movement.occurred_at.desc(), Movement.id.desc())
        .limit(TODAY_LIMIT)
    ).all()
    return [(m, d) for m, d in rows]


def _latest_of_device(db: Session, device_id: int) -> Movement | None:
    return db.scalar(
        select(Movement)
        .where(Movement.device_id == device_id)
        .order_by(Movement.occurred_at.desc(), Movement.id.desc())
        .limit(1)
    )


def _undo_refusal(db: Session, actor: Actor, movement: Movement, now: datetime) -> Conflict | None:
    """Why ``movement`` cannot be undone now, or None if it can."""
    todays = _todays(db, actor, now)
    if not todays or todays[0][0].id != movement.id or movement.action not in TRANSACTIONS:
        return Conflict("Only your last issue or return at the counter can be undone.", rule="undo_not_last")
    if now - movement.occurred_at > UNDO_WINDOW:
        return Conflict(
            f"The {movement.action.replace('_', ' ')} at {movement.occurred_at.strftime('%H:%M:%S')} UTC is more "
            "than a minute old and can no longer be undone; issue or return the device instead.",
            rule="undo_too_late",
        )
    latest = _latest_of_device(db, movement.device_id)
    if latest is None or latest.id != movement.id:
        return Conflict(
            "The device has moved since; it can no longer be undone here.", rule="undo_superseded"
        )
    return None


def todays_transactions(db: Session, actor: Actor, *, now: datetime | None = None) -> list[Transaction]:
    """The issues, returns and undos ``actor`` made at the counter today, newest first; the newest
    is undoable while under a minute old and nothing has happened to its device since."""
    now = now or clock.now()
    rows = _todays(db, actor, now)
    result = []
    for index, (movement, device) in enumerate(rows):
        undoable = index == 0 and _undo_refusal(db, actor, movement, now) is None
        result.append(
            Transaction(
                movement=movement,
                device=device,
                officer=_identity(db, movement.officer_id),
                undoable=undoable,
            )
        )
    return result


def get_transaction(db: Session, actor: Actor, movement_id: int) -> Transaction | None:
    """One of ``actor``'s counter transactions (None for anyone else's), to show what it did."""
    row = db.execute(
        select(Movement, Device)
        .join(Device, Device.id == Movement.device_id)
        .where(
            Movement.id == movement_id,
            Movement.actor_username == actor.username,
            Movement.action.in_(TRANSACTIONS + UNDOS),
        )
    ).first()
    if row is None:
        return None
    movement, device = row
    return Transaction(
        movement=movement, device=device, officer=_identity(db, movement.officer_id), undoable=False
    )


def undo(db: Session, actor: Actor, *, movement_id: int, now: datetime | None = None) -> Movement:
    """Undo the actor's last issue or return within a minute of it: an issue ends at once and the
    device goes back where it was; a return puts the device back in the officer's hands on the same
    issue. Both are recorded: the movement log and the audit trail keep the mistake and its undo."""
    now = now or clock.now()
    found = get_transaction(db, actor, movement_id)
    if found is None:
        raise NotFound("transaction")
    movement = found.movement
    # Lock the device first, so that a return or issue racing the undo waits for it.
    device = get_device(db, found.device.serial, lock=True)
    assert device is not None
    refusal = _undo_refusal(db, actor, movement, now)
    if refusal is not None:
        raise refusal
    assert movement.issue_id is not None
    issue = db.get(Issue, movement.issue_id)
    assert issue is not None
    if movement.action in ("issued", "checked_out"):
        issue.returned_at = now
        issue.returned_by = actor.username
        device.current_issue_id = None
        action, to_state, audited = (
            "issue_undone",
            movement.from_state or "in_stock",
            AuditAction.FLEET_DEVICE_ISSUE_UNDONE,
        )
    else:
        issue.returned_at = None
        issue.returned_by = None
        clash = Conflict(
            "The officer has been issued another camera since; return that one first.",
            rule="officer_already_has_camera",
        )
        with refusing_duplicates(db, {"uq_device_issue_personal_camera": clash}):
            db.flush()
        device.current_issue_id = issue.id
        docking.left_dock(device)
        action, to_state, audited = "return_undone", "issued", AuditAction.FLEET_DEVICE_RETURN_UNDONE
    undone = add_movement(
        db,
        actor,
        device,
        action=action,
        to_state=to_state,
        at=now,
        officer_id=issue.officer_id,
        issue_id=issue.id,
    )
    audit.record(
        db,
        actor=actor,
        action=audited,
        target=Target("device", device.serial),
        details={"issue": issue.id, "movement": movement.id},
    )
    db.flush()
    return undone
