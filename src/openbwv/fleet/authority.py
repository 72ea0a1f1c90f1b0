"""The daily authority check: authorities lapsing soon, and lapsed ones whose Taser is still out.

Idempotent: run it twice on a day and the second run finds the same exceptions and adds no
notification, because each notification is one row per officer, recipient, kind and expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from openbwv import audit, people
from openbwv.audit import AuditAction, Target
from openbwv.db import utcnow
from openbwv.fleet import training
from openbwv.fleet.issues import officers_holding
from openbwv.fleet.training.models import Notification
from openbwv.policy import Actor

LAPSE_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class AuthorityLine:
    officer_id: int
    collar_number: str
    name: str
    unit: str
    unit_id: int
    expires_on: date
    tasers_held: list[str]


@dataclass
class AuthorityExceptions:
    today: date
    lapsing: list[AuthorityLine] = field(default_factory=list)
    lapsed_with_taser: list[AuthorityLine] = field(default_factory=list)
    notifications_added: int = 0


def find_authority_exceptions(db: Session, *, today: date) -> AuthorityExceptions:
    """Taser authorities lapsing within 30 days, and lapsed ones whose holder still has a Taser."""
    expiries = training.latest_expiries(db, "taser")
    held = officers_holding(db, "taser")
    lapsing = {oid: d for oid, d in expiries.items() if today <= d < today + LAPSE_WARNING}
    lapsed = {oid: expiries[oid] for oid in held if oid in expiries and expiries[oid] <= today}
    # A Taser out to someone with no Taser pass at all is the same exception.
    never = {oid: today for oid in held if oid not in expiries}
    officers = people.officers_by_ids(db, [*lapsing, *lapsed, *never])

    def line(officer_id: int, expires_on: date) -> AuthorityLine:
        officer = officers[officer_id]
        return AuthorityLine(
            officer_id=officer_id,
            collar_number=officer.collar_number,
            name=officer.name,
            unit=officer.unit.code,
            unit_id=officer.unit_id,
            expires_on=expires_on,
            tasers_held=sorted(held.get(officer_id, [])),
        )

    result = AuthorityExceptions(today=today)
    result.lapsing = sorted(
        (line(o, d) for o, d in lapsing.items() if o in officers),
        key=lambda x: (x.expires_on, x.collar_number),
    )
    result.lapsed_with_taser = sorted(
        (line(o, d) for o, d in {**never, **lapsed}.items() if o in officers),
        key=lambda x: (x.expires_on, x.collar_number),
    )
    return result


def run_daily_authority_check(db: Session, actor: Actor, *, today: date) -> AuthorityExceptions:
    """Find the exceptions and notify each officer and their unit's supervisors, once per fact."""
    found = find_authority_exceptions(db, today=today)
    wanted: list[dict[str, object]] = []
    for kind, lines in (("authority_lapsing", found.lapsing), ("authority_lapsed", found.lapsed_with_taser)):
        for item in lines:
            if kind == "authority_lapsing":
                message = (
                    f"Taser authority of {item.collar_number} {item.name} lapses on "
                    f"{item.expires_on.isoformat()}; book the annual refresher before then."
                )
            else:
                message = (
                    f"Taser authority of {item.collar_number} {item.name} lapsed on "
                    f"{item.expires_on.isoformat()}; Taser {', '.join(item.tasers_held)} must be returned."
                )
            for recipient in ("officer", "supervisor"):
                wanted.append(
                    {
                        "officer_id": item.officer_id,
                        "recipient": recipient,
                        "unit_id": item.unit_id,
                        "kind": kind,
                        "authority": "taser",
                        "expires_on": item.expires_on,
                        "message": message,
                    }
                )
    existing = _existing_keys(db, [int(str(w["officer_id"])) for w in wanted])
    now = utcnow()
    fresh = [
        {**w, "created_at": now}
        for w in wanted
        if (w["officer_id"], w["recipient"], w["kind"], w["expires_on"]) not in existing
    ]
    for start in range(0, len(fresh), 5000):
        db.execute(insert(Notification), fresh[start : start + 5000])
    found.notifications_added = len(fresh)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_AUTHORITY_CHECKED,
        target=Target("authority_check", today.isoformat()),
        details={
            "lapsing": len(found.lapsing),
            "lapsed_with_taser": len(found.lapsed_with_taser),
            "notifications_added": len(fresh),
        },
    )
    return found


def _existing_keys(db: Session, officer_ids: list[int]) -> set[tuple[object, ...]]:
    keys: set[tuple[object, ...]] = set()
    ids = sorted(set(officer_ids))
    for start in range(0, len(ids), 5000):
        rows = db.execute(
            select(
                Notification.officer_id, Notification.recipient, Notification.kind, Notification.expires_on
            ).where(Notification.authority == "taser", Notification.officer_id.in_(ids[start : start + 5000]))
        ).all()
        keys.update(tuple(r) for r in rows)
    return keys


def list_notifications(
    db: Session, *, officer_id: int | None = None, unit_id: int | None = None
) -> list[Notification]:
    """Notifications for an officer, or for the supervisors of a unit, newest first."""
    query = select(Notification)
    if officer_id is not None:
        query = query.where(Notification.officer_id == officer_id, Notification.recipient == "officer")
    if unit_id is not None:
        query = query.where(Notification.unit_id == unit_id, Notification.recipient == "supervisor")
    return list(
        db.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(500)).all()
    )
