"""The daily authority check: authorities lapsing soon, lapsed ones whose Taser is still out, and
officers the STRA eligibility policy no longer lets carry Taser who still hold one.

Idempotent: run it twice on a day and the second run finds the same exceptions and adds no
notification, because each notification is one row per officer, recipient, kind and date (the expiry,
or for ineligibility the date the refusing rule took effect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
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


@dataclass(frozen=True)
class IneligibleLine:
    """An officer whose rank or unit may not carry Taser under the policy, with a Taser still out."""

    officer_id: int
    collar_number: str
    name: str
    rank: str
    unit: str
    unit_id: int
    reason: str
    effective_from: date
    tasers_held: list[str]


@dataclass
class AuthorityExceptions:
    today: date
    lapsing: list[AuthorityLine] = field(default_factory=list)
    lapsed_with_taser: list[AuthorityLine] = field(default_factory=list)
    ineligible_with_taser: list[IneligibleLine] = field(default_factory=list)
    notifications_added: int = 0


def find_authority_exceptions(db: Session, *, today: date) -> AuthorityExceptions:
    """Taser authorities lapsing within 30 days, lapsed ones whose holder still has a Taser, and
    holders whose rank or unit the eligibility policy has made ineligible."""
    expiries = training.latest_expiries(db, "taser")
    held = officers_holding(db, "taser")
    lapsing = {oid: d for oid, d in expiries.items() if today <= d < today + LAPSE_WARNING}
    lapsed = {oid: expiries[oid] for oid in held if oid in expiries and expiries[oid] <= today}
    # A Taser out to someone with no Taser pass at all is the same exception.
    never = {oid: today for oid in held if oid not in expiries}
    officers = people.officers_by_ids(db, [*lapsing, *held])
    refusals = training.refusing_rules(
        db,
        authority="taser",
        officers=[(oid, officers[oid].rank_code, officers[oid].unit_id) for oid in held if oid in officers],
        today=today,
    )

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
    result.ineligible_with_taser = sorted(
        (
            IneligibleLine(
                officer_id=oid,
                collar_number=officers[oid].collar_number,
                name=officers[oid].name,
                rank=officers[oid].rank.name,
                unit=officers[oid].unit.code,
                unit_id=officers[oid].unit_id,
                reason=rule.reason,
                effective_from=rule.effective_from,
                tasers_held=sorted(held[oid]),
            )
            for oid, rule in refusals.items()
        ),
        key=lambda x: (x.effective_from, x.collar_number),
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
    for ineligible in found.ineligible_with_taser:
        message = (
            f"{ineligible.collar_number} {ineligible.name} ({ineligible.rank}, {ineligible.unit}) may not carry "
            f"Taser under the policy effective from {ineligible.effective_from.isoformat()}: "
            f"{ineligible.reason}; Taser {', '.join(ineligible.tasers_held)} must be returned."
        )
        for recipient in ("officer", "supervisor"):
            wanted.append(
                {
                    "officer_id": ineligible.officer_id,
                    "recipient": recipient,
                    "unit_id": ineligible.unit_id,
                    "kind": "authority_ineligible",
                    "authority": "taser",
                    # One notice per rule taking effect: a later rule is a new fact.
                    "expires_on": ineligible.effective_from,
                    "message": message,
                }
            )
    existing = _existing_keys(db, [int(str(w["officer_id"])) for w in wanted])
    now = clock.now()
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
            "ineligible_with_taser": len(found.ineligible_with_taser),
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
