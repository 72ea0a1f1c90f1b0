"""Issue and return: personal issue, pooled check-out at a station, Taser per tour of duty.

Every operation checks the rules first and refuses with a ``Conflict`` whose ``rule`` a machine can
act on and whose message names the date or fact a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet import docking, training
from openbwv.fleet.devices import add_movement, cartridges_of, get_device, missing_since
from openbwv.fleet.models import ISSUE_KINDS, MISSING_STATES, Device, Issue
from openbwv.policy import Actor

POOLED_LOAN = timedelta(hours=12)
TOUR_OF_DUTY = timedelta(hours=10)


def _label(device: Device) -> str:
    return f"{'Taser' if device.kind == 'taser' else device.kind.capitalize()} {device.serial}"


def _check_camera(db: Session, device: Device, officer_id: int, collar: str, kind: str, today: date) -> None:
    bwv = training.authority_of(db, officer_id, "bwv", today=today)
    if bwv is None:
        raise Conflict(
            f"Officer {collar} has not passed the body-worn video user course; "
            "record the training before issuing a camera.",
            rule="bwv_training_required",
        )
    if not bwv.in_date and bwv.expires_on is not None:
        raise Conflict(
            f"Officer {collar}'s body-worn video training lapsed on {bwv.expires_on.isoformat()}.",
            rule="bwv_training_required",
        )
    if kind == "tour":
        raise InvalidInput("kind", "a camera is issued personally or checked out from a pool")
    if kind == "pooled" and device.state != "pooled":
        raise Conflict(
            f"{_label(device)} is not a pooled camera (it is {device.state.replace('_', ' ')}).",
            rule="device_not_available",
        )
    if kind == "personal":
        held = _open_issues_of(db, officer_id, device_kind="camera", issue_kind="personal")
        if held:
            raise _already_has_camera(collar, held[0][1].serial)


def _already_has_camera(collar: str, serial: str | None) -> Conflict:
    camera = f"camera {serial}" if serial else "a camera"
    return Conflict(
        f"Officer {collar} already has {camera} on personal issue; return it first.",
        rule="officer_already_has_camera",
    )


def _already_checked_out(db: Session, device: Device) -> Conflict:
    current = db.get(Issue, device.current_issue_id) if device.current_issue_id else None
    holder = people.get_officer_by_id(db, current.officer_id) if current else None
    since = current.issued_at.strftime("%Y-%m-%d %H:%M") if current else "earlier"
    return Conflict(
        f"{_label(device)} is already checked out to officer {holder.collar_number if holder else '?'} "
        f"since {since} UTC and has not been returned.",
        rule="already_checked_out",
    )


def _check_taser(db: Session, device: Device, officer: Any, kind: str, today: date) -> None:
    # ``officer`` is people's officer row, read through its attributes only.
    collar = officer.collar_number
    if kind == "pooled":
        raise InvalidInput("kind", "a Taser is issued personally or for a tour of duty")
    if not training.is_volunteer(db, officer.id):
        raise Conflict(
            f"Officer {collar} is not on the Taser volunteers register; carrying Taser is voluntary.",
            rule="not_volunteer",
        )
    authority = training.authority_of(db, officer.id, "taser", today=today)
    if authority is None:
        raise Conflict(
            f"Officer {collar} has never passed the Taser initial course.", rule="taser_authority_required"
        )
    if not authority.in_date:
        raise Conflict(
            f"Officer {collar}'s Taser authority lapsed on {authority.expires_on}: the last Taser "
            f"course was passed on {authority.last_passed_on.isoformat()}; a refresher is needed first.",
            rule="taser_authority_lapsed",
        )
    refusal = training.refusing_rule(
        db, authority="taser", rank_code=officer.rank_code, unit_id=officer.unit_id, today=today
    )
    if refusal is not None:
        raise Conflict(
            f"Officer {collar} ({officer.rank.name}, {officer.unit.code}) is not eligible to carry Taser "
            f"under the policy effective from {refusal.effective_from.isoformat()}: {refusal.reason}",
            rule="not_eligible",
        )
    loaded = cartridges_of(db, device.id)
    discharged = [c for c in loaded if c.discharged]
    if discharged:
        when = discharged[0].discharged_at
        raise Conflict(
            f"Cartridge {discharged[0].serial} in bay {discharged[0].bay} of {_label(device)} was discharged"
            f"{' on ' + when.strftime('%Y-%m-%d %H:%M') + ' UTC' if when else ''}; "
            f"load a new cartridge in bay {discharged[0].bay} before issue.",
            rule="cartridge_discharged",
        )
    expired = [c for c in loaded if c.expires_on <= today]
    if expired:
        raise Conflict(
            f"Cartridge {expired[0].serial} in bay {expired[0].bay} of {_label(device)} expired on "
            f"{expired[0].expires_on.isoformat()}; replace it before issue.",
            rule="cartridge_expired",
        )


def check_issuable(db: Session, device: Device) -> None:
    """Refuse a device that cannot go out whoever asks: a dock, one already out, one in repair,
    retired, or reported lost or stolen."""
    if device.kind == "dock":
        raise InvalidInput("device_serial", f"{device.serial} is a dock; docks are not issued")
    if device.current_issue_id is not None:
        raise _already_checked_out(db, device)
    if device.state in MISSING_STATES:
        reported = missing_since(db, device)
        when = f" on {reported.occurred_at.strftime('%Y-%m-%d')}" if reported is not None else ""
        raise Conflict(
            f"{_label(device)} was reported {device.state}{when} and cannot be issued; if it has been "
            "found, put it back in stock from its page first.",
            rule=f"device_{device.state}",
        )
    if device.state not in ("in_stock", "pooled"):
        raise Conflict(
            f"{_label(device)} is {device.state.replace('_', ' ')} and cannot be issued.",
            rule="device_not_available",
        )


def issue_device(
    db: Session,
    actor: Actor,
    *,
    device_serial: str,
    collar_number: str,
    kind: str,
    now: datetime | None = None,
    due_back_at: datetime | None = None,
) -> Issue:
    """Issue a device to an officer: personal issue, a pooled check-out, or a Taser for a tour."""
    now = now or clock.now()
    today = now.date()
    if kind not in ISSUE_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(ISSUE_KINDS)}")
    # The device's row stays locked until this transaction ends, so two people at the counter cannot
    # both see it free; the partial unique indexes decide if they still race.
    device = get_device(db, device_serial, lock=True)
    if device is None:
        raise NotFound("device")
    officer = people.get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    if not officer.is_active:
        raise Conflict(
            f"Officer {officer.collar_number} left the force on {officer.left_on}.", rule="officer_left"
        )
    check_issuable(db, device)
    if device.kind == "camera":
        _check_camera(db, device, officer.id, officer.collar_number, kind, today)
    else:
        _check_taser(db, device, officer, kind, today)
    if due_back_at is None and kind != "personal":
        due_back_at = now + (POOLED_LOAN if kind == "pooled" else TOUR_OF_DUTY)
    issue = Issue(
        device_id=device.id,
        officer_id=officer.id,
        kind=kind,
        device_kind=device.kind,
        issued_at=now,
        issued_by=actor.username,
        due_back_at=due_back_at,
        station=device.station,
    )
    refusals = {
        "uq_device_issue_open_device": Conflict(
            f"{_label(device)} was checked out by someone else at the same moment.",
            rule="already_checked_out",
        ),
        "uq_device_issue_personal_camera": _already_has_camera(officer.collar_number, None),
    }
    with refusing_duplicates(db, refusals):
        db.add(issue)
    action = "checked_out" if kind == "pooled" else "issued"
    add_movement(
        db, actor, device, action=action, to_state="issued", at=now, officer_id=officer.id, issue_id=issue.id
    )
    device.current_issue_id = issue.id
    docking.left_dock(device)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_ISSUED,
        target=Target("device", device.serial),
        details={"officer": officer.collar_number, "kind": kind, "issue": issue.id},
    )
    return issue


def get_issue(db: Session, issue_id: int) -> Issue | None:
    return db.get(Issue, issue_id)


def return_issue(
    db: Session, actor: Actor, *, issue_id: int, now: datetime | None = None, note: str | None = None
) -> Issue:
    """Take a device back: a pooled camera goes back to its pool, anything else into stock."""
    now = now or clock.now()
    issue = get_issue(db, issue_id)
    if issue is None:
        raise NotFound("issue")
    # Lock the device, then read the issue afresh: of two returns at once, the second sees the first.
    device = db.scalar(
        select(Device)
        .where(Device.id == issue.device_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert device is not None
    db.refresh(issue)
    if issue.returned_at is not None:
        raise Conflict(
            f"{_label(device)} was already returned at {issue.returned_at.strftime('%Y-%m-%d %H:%M')} UTC.",
            rule="already_returned",
        )
    issue.returned_at = now
    issue.returned_by = actor.username
    back_to = "pooled" if issue.kind == "pooled" else "in_stock"
    action = "checked_in" if issue.kind == "pooled" else "returned"
    late = issue.due_back_at is not None and now > issue.due_back_at
    add_movement(
        db,
        actor,
        device,
        action=action,
        to_state=back_to,
        at=now,
        officer_id=issue.officer_id,
        issue_id=issue.id,
        note=note or ("returned late" if late else None),
    )
    device.current_issue_id = None
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_DEVICE_RETURNED,
        target=Target("device", device.serial),
        details={"issue": issue.id, "late": late},
    )
    return issue


def return_device(db: Session, actor: Actor, *, device_serial: str, now: datetime | None = None) -> Issue:
    """Return whatever issue a device is out on, by its serial (the counter screen's scan)."""
    device = get_device(db, device_serial)
    if device is None:
        raise NotFound("device")
    if device.current_issue_id is None:
        raise Conflict(f"{_label(device)} is not out on issue.", rule="not_issued")
    return return_issue(db, actor, issue_id=device.current_issue_id, now=now)


def _open_issues_of(
    db: Session, officer_id: int, *, device_kind: str | None = None, issue_kind: str | None = None
) -> list[tuple[Issue, Device]]:
    query = (
        select(Issue, Device)
        .join(Device, Device.id == Issue.device_id)
        .where(Issue.officer_id == officer_id, Issue.returned_at.is_(None))
    )
    if device_kind:
        query = query.where(Device.kind == device_kind)
    if issue_kind:
        query = query.where(Issue.kind == issue_kind)
    return [(i, d) for i, d in db.execute(query.order_by(Issue.issued_at)).all()]


def officer_kit(db: Session, officer_id: int) -> list[tuple[Issue, Device]]:
    """What an officer holds now."""
    return _open_issues_of(db, officer_id)


@dataclass(frozen=True)
class OpenIssue:
    issue: Issue
    device: Device
    overdue: bool


def list_open_issues(
    db: Session, *, now: datetime | None = None, overdue_only: bool = False, device_kind: str | None = None
) -> list[OpenIssue]:
    """Devices out now, oldest first; pooled and tour issues past their due time are flagged overdue."""
    now = now or clock.now()
    query = (
        select(Issue, Device).join(Device, Device.id == Issue.device_id).where(Issue.returned_at.is_(None))
    )
    if device_kind:
        query = query.where(Device.kind == device_kind)
    if overdue_only:
        query = query.where(Issue.due_back_at.is_not(None), Issue.due_back_at < now)
    rows = db.execute(query.order_by(Issue.issued_at)).all()
    return [
        OpenIssue(issue=i, device=d, overdue=i.due_back_at is not None and i.due_back_at < now)
        for i, d in rows
    ]


@dataclass(frozen=True)
class IssuePeriod:
    """A stretch of time one officer held one device: from ``issued_at`` until ``returned_at`` (None:
    still out)."""

    device_serial: str
    station: str | None
    officer_id: int
    issue_kind: str
    issued_at: datetime
    returned_at: datetime | None


def list_issue_periods(
    db: Session, *, device_kind: str, since: datetime, until: datetime
) -> list[IssuePeriod]:
    """Every issue of a device of ``device_kind`` that overlaps ``since``..``until``, oldest first: the
    history that says who could have recorded what, and when."""
    rows = db.execute(
        select(
            Device.serial, Device.station, Issue.officer_id, Issue.kind, Issue.issued_at, Issue.returned_at
        )
        .join(Device, Device.id == Issue.device_id)
        .where(
            Device.kind == device_kind,
            Issue.issued_at < until,
            (Issue.returned_at.is_(None)) | (Issue.returned_at > since),
        )
        .order_by(Issue.issued_at, Issue.id)
    ).all()
    return [IssuePeriod(*row) for row in rows]


def holders_of(db: Session, device_ids: list[int]) -> dict[int, int]:
    """The officer each of ``device_ids`` is out to now, by device id; devices in stock are left out."""
    rows = db.execute(
        select(Issue.device_id, Issue.officer_id).where(
            Issue.device_id.in_(device_ids), Issue.returned_at.is_(None)
        )
    ).all()
    return {device_id: officer_id for device_id, officer_id in rows}


def officers_holding(db: Session, device_kind: str) -> dict[int, list[str]]:
    """Serials of devices of a kind out now, by officer id."""
    rows = db.execute(
        select(Issue.officer_id, Device.serial)
        .join(Device, Device.id == Issue.device_id)
        .where(Issue.returned_at.is_(None), Device.kind == device_kind)
    ).all()
    held: dict[int, list[str]] = {}
    for officer_id, serial in rows:
        held.setdefault(officer_id, []).append(serial)
    return held


@dataclass(frozen=True)
class HolderAtTime:
    """Who held a device at a moment, and under which issue: for attributing what it recorded."""

    officer_id: int
    collar_number: str
    issue_id: int
    issue_kind: str


def holder_at(db: Session, device_serial: str, at: datetime) -> HolderAtTime | None:
    """The officer who held the device ``device_serial`` at ``at`` (issued at or before it and not yet
    returned), from the issue history; None when nobody held it then or there is no such device."""
    row = db.execute(
        select(Issue.id, Issue.kind, Issue.officer_id)
        .join(Device, Device.id == Issue.device_id)
        .where(
            Device.serial == device_serial.strip().upper(),
            Issue.issued_at <= at,
            (Issue.returned_at.is_(None)) | (Issue.returned_at > at),
        )
        .order_by(Issue.issued_at.desc(), Issue.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    officer = people.get_officer_by_id(db, row.officer_id)
    collar = officer.collar_number if officer is not None else ""
    return HolderAtTime(officer_id=row.officer_id, collar_number=collar, issue_id=row.id, issue_kind=row.kind)
