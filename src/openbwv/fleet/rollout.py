"""The camera roll-out plan: phases by unit with target counts and dates, and progress against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, people
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput
from openbwv.fleet import training
from openbwv.fleet.issues import officers_holding
from openbwv.fleet.models import RolloutPhase
from openbwv.policy import Actor


def create_phase(
    db: Session, actor: Actor, *, name: str, unit: str, target_cameras: int, starts_on: date, ends_on: date
) -> RolloutPhase:
    """Add a phase of the roll-out for one unit."""
    unit_row = people.get_unit(db, unit)
    if unit_row is None:
        raise InvalidInput("unit", f"no unit has the code {unit.strip().upper()!r}")
    if ends_on < starts_on:
        raise InvalidInput("ends_on", "the phase must end on or after the day it starts")
    duplicate = db.scalar(
        select(RolloutPhase).where(RolloutPhase.name == name.strip(), RolloutPhase.unit_id == unit_row.id)
    )
    exists = Conflict(f"Phase {name} already covers unit {unit_row.code}.", rule="phase_exists")
    if duplicate is not None:
        raise exists
    phase = RolloutPhase(
        name=name.strip(),
        unit_id=unit_row.id,
        target_cameras=target_cameras,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    with refusing_duplicates(db, {"uq_rollout_phase_name": exists}):
        db.add(phase)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_ROLLOUT_CHANGED,
        target=Target("rollout_phase", str(phase.id)),
        details={"name": phase.name, "unit": unit_row.code, "target_cameras": target_cameras},
    )
    return phase


@dataclass(frozen=True)
class PhaseProgress:
    id: int
    name: str
    unit: str
    unit_name: str
    target_cameras: int
    starts_on: date
    ends_on: date
    cameras_issued: int
    officers: int
    officers_trained: int

    @property
    def target_above_headcount(self) -> bool:
        """A target no unit of this size can meet with personal issue: one camera each at most."""
        return self.target_cameras > self.officers

    def behind_at_end(self, today: date) -> bool:
        """Whether the phase has ended short of its target."""
        return self.ends_on < today and self.cameras_issued < self.target_cameras

    @property
    def percent(self) -> int:
        return (
            min(100, round(100 * self.cameras_issued / self.target_cameras)) if self.target_cameras else 100
        )


def rollout_progress(db: Session) -> list[PhaseProgress]:
    """Each phase with cameras on personal issue in its unit against target, and officers trained."""
    phases = db.scalars(select(RolloutPhase).order_by(RolloutPhase.starts_on, RolloutPhase.name)).all()
    units = {u.id: u for u in people.list_units(db)}
    by_unit = people.officer_ids_by_unit(db)
    cameras = officers_holding(db, "camera")
    trained = training.officers_with_authority(db, "bwv")
    result = []
    for phase in phases:
        members = by_unit.get(phase.unit_id, [])
        unit = units[phase.unit_id]
        result.append(
            PhaseProgress(
                id=phase.id,
                name=phase.name,
                unit=unit.code,
                unit_name=unit.name,
                target_cameras=phase.target_cameras,
                starts_on=phase.starts_on,
                ends_on=phase.ends_on,
                cameras_issued=sum(1 for o in members if o in cameras),
                officers=len(members),
                officers_trained=sum(1 for o in members if o in trained),
            )
        )
    return result
