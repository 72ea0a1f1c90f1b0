"""What the home page shows from the fleet: an officer's own kit, training and authority, and figures
of the fleet for readers outside the force (counts by kind and state, nothing about any officer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv.fleet import training
from openbwv.fleet.authority import LAPSE_WARNING
from openbwv.fleet.issues import officer_kit
from openbwv.fleet.models import DEVICE_KINDS, DEVICE_STATES, Device, Issue


@dataclass(frozen=True)
class OwnAuthority:
    """One authority an officer's training grants, and whether it needs their attention: lapsed, or
    lapsing within the warning window of today."""

    authority: str
    expires_on: date | None
    in_date: bool
    lapses_soon: bool

    @property
    def needs_warning(self) -> bool:
        return not self.in_date or self.lapses_soon


@dataclass(frozen=True)
class OwnRecord:
    """An officer's own kit held now, training passes with their expiry, and authorities."""

    holding: list[tuple[Issue, Device]]
    training: list[training.CourseStatus]
    authorities: list[OwnAuthority]


def own_record(db: Session, officer_id: int, *, today: date) -> OwnRecord:
    """The officer's kit held now, their training and the authority it grants, with lapse warnings."""
    courses = training.officer_training(db, officer_id, today=today)
    authorities = []
    for name in sorted({c.authority for c in courses if c.authority}):
        status = training.authority_of(db, officer_id, name, today=today)
        if status is None:
            continue
        soon = status.in_date and status.expires_on is not None and status.expires_on < today + LAPSE_WARNING
        authorities.append(
            OwnAuthority(
                authority=name, expires_on=status.expires_on, in_date=status.in_date, lapses_soon=soon
            )
        )
    return OwnRecord(holding=officer_kit(db, officer_id), training=courses, authorities=authorities)


@dataclass(frozen=True)
class KindCounts:
    kind: str
    by_state: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass(frozen=True)
class FleetFigures:
    """Devices counted by kind and state: ``states`` are the table's columns, in the fleet's order."""

    states: tuple[str, ...]
    kinds: list[KindCounts]


def fleet_figures(db: Session) -> FleetFigures:
    """How many devices of each kind are in each state; every kind and state appears, zero or not."""
    counts = {
        (kind, state): count
        for kind, state, count in db.execute(
            select(Device.kind, Device.state, func.count()).group_by(Device.kind, Device.state)
        ).all()
    }
    return FleetFigures(
        states=DEVICE_STATES,
        kinds=[
            KindCounts(kind=kind, by_state={state: counts.get((kind, state), 0) for state in DEVICE_STATES})
            for kind in DEVICE_KINDS
        ],
    )
