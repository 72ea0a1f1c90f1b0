from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from openbwv import clock
from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.fleet import authority, devices
from openbwv.fleet.training import eligibility, service
from openbwv.fleet.training.models import EligibilityRule
from openbwv.fleet.training.schemas import (
    AuthorityExceptionsOut,
    CourseIn,
    CourseOut,
    CourseStatusOut,
    EligibilityIn,
    EligibilityOut,
    PassIn,
    PassOut,
    PassWarningOut,
    SupersedeEligibilityIn,
    VolunteerIn,
    VolunteerOut,
    WithdrawEligibilityIn,
)
from openbwv.inputs import RecordId
from openbwv.policy import Actor, Permission, Require

router = APIRouter(prefix="/api/v1", tags=["training"], responses=API_ERRORS)


@router.get("/courses", response_model=list[CourseOut])
def list_courses(db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_READ)) -> list[CourseOut]:
    """Every course and the authority it grants, with its validity."""
    return [CourseOut.model_validate(c) for c in service.list_courses(db)]


@router.post("/courses", response_model=CourseOut, status_code=201)
def create_course(
    body: CourseIn, db: Db, actor: Actor = Require(Permission.TRAINING_POLICY_WRITE)
) -> CourseOut:
    """Add one of the force's own courses."""
    return CourseOut.model_validate(service.create_course(db, actor, **body.model_dump()))


@router.post("/officers/{collar_number}/training", response_model=PassOut, status_code=201)
def record_pass(
    collar_number: str, body: PassIn, db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_WRITE)
) -> PassOut:
    """Record that an officer passed a course (bwv_user, taser_initial, taser_refresher or the force's own);
    the answer warns when the policy rules the officer out or the same pass was already recorded."""
    warnings = service.pass_warnings(
        db, collar_number=collar_number, course=body.course, passed_on=body.passed_on, today=clock.today()
    )
    row = service.record_pass(
        db,
        actor,
        collar_number=collar_number,
        course=body.course,
        passed_on=body.passed_on,
        trainer=body.trainer,
    )
    return PassOut(
        collar_number=collar_number.strip().upper(),
        course=row.course_code,
        passed_on=row.passed_on,
        expires_on=row.expires_on,
        trainer=row.trainer,
        warnings=[PassWarningOut.model_validate(w) for w in warnings],
    )


@router.get("/officers/{collar_number}/training", response_model=list[CourseStatusOut])
def officer_training(
    collar_number: str, db: Db, actor: Actor = Require(Permission.SELF_READ)
) -> list[CourseStatusOut]:
    """Each course the officer has passed, its expiry and whether the authority is in date (staff who
    read training records, or the officer themselves)."""
    rows = service.get_training_record_for(db, actor, collar_number, today=clock.today())
    if rows is None:
        raise NotFound("officer")
    return [CourseStatusOut.model_validate(r) for r in rows]


def _rule_out(line: eligibility.RuleLine) -> EligibilityOut:
    rule = line.rule
    return EligibilityOut(
        id=rule.id,
        authority=rule.authority,
        rank=rule.rank_code,
        unit_id=rule.unit_id,
        unit=line.unit_code,
        eligible=rule.eligible,
        effective_from=rule.effective_from,
        ends_on=rule.ends_on,
        reason=rule.reason,
        set_by=rule.set_by,
        set_at=rule.created_at,
        status=line.status,
        withdrawn_at=rule.withdrawn_at,
        withdrawn_by=rule.withdrawn_by,
        withdrawal_reason=rule.withdrawal_reason,
        superseded_by=rule.superseded_by_id,
    )


def _one_rule_out(db: Db, rule: EligibilityRule) -> EligibilityOut:
    [line] = [
        line for line in eligibility.describe_eligibility_rules(db, today=clock.today()) if line.rule is rule
    ]
    return _rule_out(line)


@router.get("/eligibility-rules", response_model=list[EligibilityOut])
def list_eligibility_rules(
    db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_READ)
) -> list[EligibilityOut]:
    """The STRA eligibility policy, newest first, withdrawn rules included with who withdrew them."""
    return [_rule_out(line) for line in eligibility.describe_eligibility_rules(db, today=clock.today())]


@router.post("/eligibility-rules", response_model=EligibilityOut, status_code=201)
def set_eligibility(
    body: EligibilityIn, db: Db, actor: Actor = Require(Permission.TRAINING_POLICY_WRITE)
) -> EligibilityOut:
    """Record a STRA decision: whether a rank and/or unit may hold an authority, from a date."""
    return _one_rule_out(db, eligibility.set_eligibility(db, actor, **body.model_dump()))


@router.post("/eligibility-rules/{rule_id}/withdraw", response_model=EligibilityOut)
def withdraw_eligibility(
    rule_id: RecordId,
    body: WithdrawEligibilityIn,
    db: Db,
    actor: Actor = Require(Permission.TRAINING_POLICY_WRITE),
) -> EligibilityOut:
    """Withdraw a STRA decision with a reason: from today it no longer applies."""
    return _one_rule_out(db, eligibility.withdraw_eligibility(db, actor, rule_id=rule_id, reason=body.reason))


@router.post("/eligibility-rules/{rule_id}/supersede", response_model=EligibilityOut, status_code=201)
def supersede_eligibility(
    rule_id: RecordId,
    body: SupersedeEligibilityIn,
    db: Db,
    actor: Actor = Require(Permission.TRAINING_POLICY_WRITE),
) -> EligibilityOut:
    """Replace a STRA decision with a new one for the same rank and unit from a date; answers the new rule."""
    new = eligibility.supersede_eligibility(
        db,
        actor,
        rule_id=rule_id,
        eligible=body.eligible,
        effective_from=body.effective_from,
        reason=body.reason,
    )
    return _one_rule_out(db, new)


@router.get("/taser-volunteers", response_model=list[VolunteerOut])
def list_volunteers(db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_READ)) -> list[VolunteerOut]:
    """The register of officers who volunteer to carry Taser."""
    rows = service.list_volunteers(db)
    collars = devices.officer_collars(db, [r.officer_id for r in rows])
    return [VolunteerOut(collar_number=collars[r.officer_id], volunteered_on=r.volunteered_on) for r in rows]


@router.post("/taser-volunteers", response_model=VolunteerOut, status_code=201)
def add_volunteer(
    body: VolunteerIn, db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_WRITE)
) -> VolunteerOut:
    """Put an officer on the Taser volunteers register."""
    row = service.add_volunteer(
        db, actor, collar_number=body.collar_number, volunteered_on=body.volunteered_on or clock.today()
    )
    return VolunteerOut(collar_number=body.collar_number.strip().upper(), volunteered_on=row.volunteered_on)


@router.post("/taser-volunteers/{collar_number}/withdraw", status_code=204)
def withdraw_volunteer(
    collar_number: str, db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_WRITE)
) -> None:
    """Take an officer off the Taser volunteers register."""
    service.withdraw_volunteer(db, actor, collar_number=collar_number)


@router.get("/training/exceptions", response_model=AuthorityExceptionsOut)
def authority_exceptions(
    db: Db, on: date | None = None, actor: Actor = Require(Permission.TRAINING_RECORD_READ)
) -> AuthorityExceptionsOut:
    """Taser authorities lapsing within 30 days, lapsed ones with a Taser still issued, and officers the
    eligibility policy has made ineligible who still hold a Taser."""
    found = authority.find_authority_exceptions(db, today=on or clock.today())
    return AuthorityExceptionsOut.model_validate(found, from_attributes=True)


@router.post("/training/check-lapses", response_model=AuthorityExceptionsOut)
def run_authority_check(
    db: Db, on: date | None = None, actor: Actor = Require(Permission.TRAINING_POLICY_WRITE)
) -> AuthorityExceptionsOut:
    """Run the daily authority check now: notify officers and supervisors, once per fact."""
    found = authority.run_daily_authority_check(db, actor, today=on or clock.today())
    return AuthorityExceptionsOut.model_validate(found, from_attributes=True)
