"""The daily authority check: authorities lapsing soon, lapsed ones whose Taser is still out, and
officers the STRA eligibility policy no longer lets carry Taser who still hold one.

Idempotent: run it twice on a day and the second run finds the same exceptions and adds no
notification, because each notification is one row per officer, recipient, kind and date (the expiry,
or for ineligibility the date the refusing rule took effect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from openbwv import audit, notifications, people
from openbwv.audit import AuditAction, Target
from openbwv.fleet import training
from openbwv.fleet.issues import officers_holding
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
    wanted: list[notifications.Notice] = []

    def tell(kind: str, officer_id: int, unit_id: int, on: date, message: str) -> None:
        for recipient in ("officer", "supervisor"):
            wanted.append(
                notifications.Notice(
                    # One notice per officer, recipient, kind and date: the same fact is told once.
                    key=f"taser:{kind}:{officer_id}:{on.isoformat()}:{recipient}",
                    kind=kind,
                    recipient=recipient,
                    officer_id=officer_id,
                    unit_id=unit_id,
                    concerns_on=on,
                    message=message,
                )
            )

    for item in found.lapsing:
        tell(
            "authority_lapsing",
            item.officer_id,
            item.unit_id,
            item.expires_on,
            f"Taser authority of {item.collar_number} {item.name} lapses on "
            f"{item.expires_on.isoformat()}; book the annual refresher before then.",
        )
    for item in found.lapsed_with_taser:
        tell(
            "authority_lapsed",
            item.officer_id,
            item.unit_id,
            item.expires_on,
            f"Taser authority of {item.collar_number} {item.name} lapsed on "
            f"{item.expires_on.isoformat()}; Taser {', '.join(item.tasers_held)} must be returned.",
        )
    for ineligible in found.ineligible_with_taser:
        tell(
            "authority_ineligible",
            ineligible.officer_id,
            ineligible.unit_id,
            # One notice per rule taking effect: a later rule is a new fact.
            ineligible.effective_from,
            f"{ineligible.collar_number} {ineligible.name} ({ineligible.rank}, {ineligible.unit}) may not carry "
            f"Taser under the policy effective from {ineligible.effective_from.isoformat()}: "
            f"{ineligible.reason}; Taser {', '.join(ineligible.tasers_held)} must be returned.",
        )
    added = notifications.notify(db, wanted)
    found.notifications_added = added
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_AUTHORITY_CHECKED,
        target=Target("authority_check", today.isoformat()),
        details={
            "lapsing": len(found.lapsing),
            "lapsed_with_taser": len(found.lapsed_with_taser),
            "ineligible_with_taser": len(found.ineligible_with_taser),
            "notifications_added": added,
        },
    )
    return found
