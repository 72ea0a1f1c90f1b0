"""Courses, passes, authority and its expiry, the STRA eligibility policy and the volunteers register."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet.training.models import (
    AUTHORITIES,
    Course,
    EligibilityRule,
    TaserVolunteer,
    TrainingPass,
)
from openbwv.policy import Actor, Permission, RecordKind


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def list_courses(db: Session) -> list[Course]:
    return list(db.scalars(select(Course).order_by(Course.code)).all())


def get_course(db: Session, code: str) -> Course | None:
    return db.get(Course, code.strip().lower())


def create_course(
    db: Session, actor: Actor, *, code: str, name: str, authority: str | None, validity_months: int | None
) -> Course:
    """Add one of the force's own courses; it may grant an authority for a number of months."""
    code = code.strip().lower()
    if authority is not None and authority not in AUTHORITIES:
        raise InvalidInput("authority", f"must be one of {', '.join(AUTHORITIES)} or empty")
    taken = Conflict(f"A course with code {code} already exists.", rule="course_code_taken")
    if get_course(db, code) is not None:
        raise taken
    course = Course(code=code, name=name.strip(), authority=authority, validity_months=validity_months)
    with refusing_duplicates(db, {"pk_training_course": taken}):
        db.add(course)
    audit.record(db, actor=actor, action=AuditAction.TRAINING_COURSE_CREATED, target=Target("course", code))
    return course


def record_pass(
    db: Session,
    actor: Actor,
    *,
    collar_number: str,
    course: str,
    passed_on: date,
    trainer: str | None = None,
    today: date | None = None,
) -> TrainingPass:
    """Record that an officer passed a course on a day; the expiry follows from the course."""
    today = today or clock.today()
    officer = people.get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    course_row = get_course(db, course)
    if course_row is None:
        valid = ", ".join(c.code for c in list_courses(db))
        raise InvalidInput("course", f"unknown course {course!r}; courses are {valid}")
    if passed_on > today:
        raise InvalidInput("passed_on", f"{passed_on.isoformat()} is in the future")
    expires_on = (
        add_months(passed_on, course_row.validity_months) if course_row.validity_months is not None else None
    )
    row = TrainingPass(
        officer_id=officer.id,
        course_code=course_row.code,
        authority=course_row.authority,
        passed_on=passed_on,
        expires_on=expires_on,
        trainer=trainer,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_PASS_RECORDED,
        target=Target("officer", officer.collar_number),
        details={"course": course_row.code, "passed_on": passed_on.isoformat(), "trainer": trainer},
    )
    return row


@dataclass(frozen=True)
class CourseStatus:
    course: str
    name: str
    authority: str | None
    passed_on: date
    expires_on: date | None
    in_date: bool
    trainer: str | None


def officer_training(db: Session, officer_id: int, *, today: date) -> list[CourseStatus]:
    """The latest pass of each course the officer has passed, with its expiry."""
    rows = db.execute(
        select(TrainingPass, Course)
        .join(Course, Course.code == TrainingPass.course_code)
        .where(TrainingPass.officer_id == officer_id)
        .order_by(TrainingPass.passed_on, TrainingPass.id)
    ).all()
    latest: dict[str, tuple[TrainingPass, Course]] = {}
    for passed, course in rows:
        latest[course.code] = (passed, course)
    return [
        CourseStatus(
            course=course.code,
            name=course.name,
            authority=course.authority,
            passed_on=passed.passed_on,
            expires_on=passed.expires_on,
            in_date=passed.expires_on is None or today < passed.expires_on,
            trainer=passed.trainer,
        )
        for passed, course in sorted(latest.values(), key=lambda pc: pc[1].code)
    ]


def get_training_record_for(
    db: Session, actor: Actor, collar_number: str, *, today: date
) -> list[CourseStatus] | None:
    """The officer's training record (``officer_training``), when ``actor`` may read it: staff who
    read training records, or the officer themselves; None when there is no such officer or their
    record is hidden from the actor."""
    officer = people.get_officer_for(
        db, actor, collar_number, permission=Permission.TRAINING_RECORD_READ, kind=RecordKind.TRAINING
    )
    return None if officer is None else officer_training(db, officer.id, today=today)


@dataclass(frozen=True)
class AuthorityStatus:
    authority: str
    last_passed_on: date
    expires_on: date | None
    in_date: bool


def authority_of(db: Session, officer_id: int, authority: str, *, today: date) -> AuthorityStatus | None:
    """The officer's authority from their latest pass of any course granting it; None if never trained."""
    latest = db.execute(
        select(TrainingPass.passed_on, TrainingPass.expires_on)
        .where(TrainingPass.officer_id == officer_id, TrainingPass.authority == authority)
        .order_by(TrainingPass.passed_on.desc(), TrainingPass.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    passed_on, expires_on = latest
    return AuthorityStatus(
        authority=authority,
        last_passed_on=passed_on,
        expires_on=expires_on,
        in_date=expires_on is None or today < expires_on,
    )


def authority_on(db: Session, officer_id: int, authority: str, *, on: date) -> AuthorityStatus | None:
    """The officer's authority as it stood on ``on``, from their latest pass on or before that day
    (a later refresher does not reach back); None if they had never passed by then."""
    latest = db.execute(
        select(TrainingPass.passed_on, TrainingPass.expires_on)
        .where(
            TrainingPass.officer_id == officer_id,
            TrainingPass.authority == authority,
            TrainingPass.passed_on <= on,
        )
        .order_by(TrainingPass.passed_on.desc(), TrainingPass.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    passed_on, expires_on = latest
    return AuthorityStatus(
        authority=authority,
        last_passed_on=passed_on,
        expires_on=expires_on,
        in_date=expires_on is None or on < expires_on,
    )


def latest_expiries(db: Session, authority: str, officer_ids: list[int] | None = None) -> dict[int, date]:
    """Each officer's authority expiry (from the latest-expiring pass), for the daily check."""
    query = (
        select(TrainingPass.officer_id, func.max(TrainingPass.expires_on))
        .where(TrainingPass.authority == authority, TrainingPass.expires_on.is_not(None))
        .group_by(TrainingPass.officer_id)
    )
    if officer_ids is not None:
        query = query.where(TrainingPass.officer_id.in_(officer_ids))
    return {officer_id: expires for officer_id, expires in db.execute(query).all() if expires is not None}


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


@dataclass(frozen=True)
class PassWarning:
    """Something to confirm before a pass is recorded: its rule for machines and a sentence."""

    rule: str
    message: str


def pass_warnings(
    db: Session, *, collar_number: str, course: str, passed_on: date, today: date
) -> list[PassWarning]:
    """What to warn about before recording a pass: an officer the eligibility policy rules out of
    the authority the course grants, or a pass of the same course on the same day already recorded."""
    officer = people.get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    course_row = get_course(db, course)
    if course_row is None:
        valid = ", ".join(c.code for c in list_courses(db))
        raise InvalidInput("course", f"unknown course {course!r}; courses are {valid}")
    warnings = []
    if course_row.authority is not None:
        refusal = refusing_rule(
            db,
            authority=course_row.authority,
            rank_code=officer.rank_code,
            unit_id=officer.unit_id,
            today=today,
        )
        if refusal is not None:
            warnings.append(
                PassWarning(
                    "officer_ineligible",
                    f"The eligibility policy rules {officer.collar_number} out of holding "
                    f"{course_row.authority} authority from {refusal.effective_from}: {refusal.reason}",
                )
            )
    already = db.scalar(
        select(TrainingPass.id).where(
            TrainingPass.officer_id == officer.id,
            TrainingPass.course_code == course_row.code,
            TrainingPass.passed_on == passed_on,
        )
    )
    if already is not None:
        warnings.append(
            PassWarning(
                "pass_already_recorded",
                f"A pass of {course_row.name} by {officer.collar_number} on {passed_on} is already recorded.",
            )
        )
    return warnings


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


def is_volunteer(db: Session, officer_id: int) -> bool:
    return db.get(TaserVolunteer, officer_id) is not None


def list_volunteers(db: Session) -> list[TaserVolunteer]:
    return list(db.scalars(select(TaserVolunteer).order_by(TaserVolunteer.volunteered_on)).all())


def add_volunteer(db: Session, actor: Actor, *, collar_number: str, volunteered_on: date) -> TaserVolunteer:
    """Put an officer on the register of those who volunteer to carry Taser."""
    officer = people.get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    already = Conflict(
        f"Officer {officer.collar_number} is already on the Taser volunteers register.",
        rule="already_volunteered",
    )
    if is_volunteer(db, officer.id):
        raise already
    row = TaserVolunteer(officer_id=officer.id, volunteered_on=volunteered_on, recorded_by=actor.username)
    with refusing_duplicates(db, {"pk_taser_volunteer": already}):
        db.add(row)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_VOLUNTEER_CHANGED,
        target=Target("officer", officer.collar_number),
        details={"volunteer": True, "on": volunteered_on.isoformat()},
    )
    return row


def withdraw_volunteer(db: Session, actor: Actor, *, collar_number: str) -> None:
    """Take an officer off the Taser volunteers register."""
    officer = people.get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    row = db.get(TaserVolunteer, officer.id)
    if row is None:
        raise Conflict(
            f"Officer {officer.collar_number} is not on the Taser volunteers register.", rule="not_volunteer"
        )
    db.delete(row)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TRAINING_VOLUNTEER_CHANGED,
        target=Target("officer", officer.collar_number),
        details={"volunteer": False},
    )


def officers_with_authority(db: Session, authority: str) -> set[int]:
    """Officers who hold a pass granting ``authority`` (for roll-out progress)."""
    return set(
        db.scalars(
            select(TrainingPass.officer_id).where(TrainingPass.authority == authority).distinct()
        ).all()
    )
