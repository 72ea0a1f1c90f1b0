"""The STRA eligibility policy: which ranks and units may hold an authority, from and until when, who
decided and who withdrew or superseded each decision; and which rule rules an officer out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet.training.models import AUTHORITIES, EligibilityRule
from openbwv.policy import Actor


def list_eligibility_rules(db: Session) -> list[EligibilityRule]:
    return list(
        db.scalars(
            select(EligibilityRule).order_by(EligibilityRule.effective_from.desc(), EligibilityRule.id.desc())
        ).all()
    )


def set_eligibility(
    db: Session,
    actor: Actor,
    *,
    authority: str,
    rank: str | None,
    unit: str | None,
    eligible: bool,
    effective_from: date,
    reason: str,
) -> EligibilityRule:
    """Add a STRA decision: whether officers of a rank and/or unit may hold an authority from a date."""
    if authority not in AUTHORITIES:
        raise InvalidInput("authority", f"must be one of {', '.join(AUTHORITIES)}")
    rank_code = rank.strip().lower() if rank else None
    if rank_code and rank_code not in {r.code for r in people.list_ranks(db)}:
        raise InvalidInput("rank", f"unknown rank {rank!r}")
    unit_row = people.get_unit(db, unit) if unit else None
    if unit and unit_row is None:
        raise InvalidInput("unit", f"no unit has the code {unit.strip().upper()!r}")
    rule = EligibilityRule(
        authority=authority,
        rank_code=rank_code,
        unit_id=unit_row.id if unit_row else None,
        eligible=eligible,
        effective_from=effective_from,
        reason=reason.strip(),
        set_by=actor.username,
    )
    db.add(rule)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_POLICY_CHANGED,
        target=Target("eligibility_rule", str(rule.id)),
        reason=reason,
        details={
            "authority": authority,
            "rank": rank_code,
            "unit": unit_row.code if unit_row else None,
            "eligible": eligible,
            "effective_from": effective_from.isoformat(),
        },
    )
    return rule


def get_eligibility_rule(db: Session, rule_id: int) -> EligibilityRule | None:
    return db.get(EligibilityRule, rule_id)


def _unit_code(db: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    return next((u.code for u in people.list_units(db) if u.id == unit_id), None)


def _standing_rule(db: Session, rule_id: int, reason: str) -> EligibilityRule:
    if not reason.strip():
        raise InvalidInput("reason", "say why the rule is withdrawn")
    rule = get_eligibility_rule(db, rule_id)
    if rule is None:
        raise NotFound("eligibility rule")
    if rule.ends_on is not None:
        raise Conflict(
            f"This rule was already withdrawn by {rule.withdrawn_by}; it applied until {rule.ends_on}.",
            rule="rule_already_withdrawn",
        )
    return rule


def _end_rule(
    db: Session, actor: Actor, rule: EligibilityRule, *, ends_on: date, reason: str, superseded_by: int | None
) -> None:
    rule.ends_on = ends_on
    rule.withdrawn_at = clock.now()
    rule.withdrawn_by = actor.username
    rule.withdrawal_reason = reason.strip()
    rule.superseded_by_id = superseded_by
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_POLICY_WITHDRAWN,
        target=Target("eligibility_rule", str(rule.id)),
        reason=reason.strip(),
        details={
            "authority": rule.authority,
            "rank": rule.rank_code,
            "unit": _unit_code(db, rule.unit_id),
            "eligible": rule.eligible,
            "effective_from": rule.effective_from.isoformat(),
            "ends_on": ends_on.isoformat(),
            "superseded_by": superseded_by,
        },
    )


def withdraw_eligibility(
    db: Session, actor: Actor, *, rule_id: int, reason: str, today: date | None = None
) -> EligibilityRule:
    """Withdraw a STRA decision: from today it no longer applies (what it decided before stands in
    the record); who withdrew it and why are kept on the rule and in the audit log."""
    rule = _standing_rule(db, rule_id, reason)
    _end_rule(db, actor, rule, ends_on=today or clock.today(), reason=reason, superseded_by=None)
    return rule


def supersede_eligibility(
    db: Session,
    actor: Actor,
    *,
    rule_id: int,
    eligible: bool,
    effective_from: date,
    reason: str,
) -> EligibilityRule:
    """Replace a STRA decision with a new one for the same authority, rank and unit from
    ``effective_from``, the day the old one stops applying; returns the new rule."""
    old = _standing_rule(db, rule_id, reason)
    if effective_from < old.effective_from:
        raise InvalidInput(
            "effective_from",
            f"the new rule must start on or after {old.effective_from}, when the rule it replaces started",
        )
    new = set_eligibility(
        db,
        actor,
        authority=old.authority,
        rank=old.rank_code,
        unit=_unit_code(db, old.unit_id),
        eligible=eligible,
        effective_from=effective_from,
        reason=reason,
    )
    _end_rule(db, actor, old, ends_on=effective_from, reason=reason, superseded_by=new.id)
    return new


@dataclass(frozen=True)
class RuleLine:
    """An eligibility rule as the policy table shows it: whom it covers, by name, and where it stands."""

    rule: EligibilityRule
    rank_name: str | None
    unit_code: str | None
    unit_name: str | None
    status: str
    standing: bool


def _status(rule: EligibilityRule, today: date) -> str:
    if rule.superseded_by_id is not None:
        return f"superseded by rule {rule.superseded_by_id} from {rule.ends_on}"
    if rule.ends_on is not None:
        return f"withdrawn from {rule.ends_on}"
    if rule.effective_from > today:
        return f"applies from {rule.effective_from}"
    return "in force"


def describe_eligibility_rules(db: Session, *, today: date, limit: int | None = None) -> list[RuleLine]:
    """The eligibility policy, newest first, with rank and unit names and where each rule stands."""
    ranks = {r.code: r.name for r in people.list_ranks(db)}
    units = {u.id: u for u in people.list_units(db)}
    rules = list_eligibility_rules(db)
    return [
        RuleLine(
            rule=r,
            rank_name=ranks.get(r.rank_code) if r.rank_code else None,
            unit_code=units[r.unit_id].code if r.unit_id in units else None,
            unit_name=units[r.unit_id].name if r.unit_id in units else None,
            status=_status(r, today),
            standing=r.ends_on is None,
        )
        for r in rules[:limit]
    ]


def refusing_rule(
    db: Session, *, authority: str, rank_code: str, unit_id: int, today: date
) -> EligibilityRule | None:
    """The rule that makes an officer ineligible today, or None when they are eligible."""
    return _pick_refusal(_rules_in_force(db, authority, today), rank_code, unit_id)


def refusing_rules(
    db: Session, *, authority: str, officers: list[tuple[int, str, int]], today: date
) -> dict[int, EligibilityRule]:
    """For many officers at once, given as (officer id, rank code, unit id): the rule that makes each
    ineligible today; eligible officers are left out. One query, whatever the number of officers."""
    rules = _rules_in_force(db, authority, today)
    found = {officer_id: _pick_refusal(rules, rank, unit) for officer_id, rank, unit in officers}
    return {officer_id: rule for officer_id, rule in found.items() if rule is not None}


def _rules_in_force(db: Session, authority: str, today: date) -> list[EligibilityRule]:
    return list(
        db.scalars(
            select(EligibilityRule).where(
                EligibilityRule.authority == authority,
                EligibilityRule.effective_from <= today,
                or_(EligibilityRule.ends_on.is_(None), EligibilityRule.ends_on > today),
            )
        ).all()
    )


def _pick_refusal(rules: list[EligibilityRule], rank_code: str, unit_id: int) -> EligibilityRule | None:
    """The most specific rule in force wins (rank and unit, then unit, then rank, then force-wide);
    among equals, the latest effective date. None when that rule makes the officer eligible."""
    applying = [r for r in rules if r.rank_code in (None, rank_code) and r.unit_id in (None, unit_id)]
    if not applying:
        return None
    best = max(
        applying,
        key=lambda r: (r.unit_id is not None, r.rank_code is not None, r.effective_from, r.id),
    )
    return None if best.eligible else best
