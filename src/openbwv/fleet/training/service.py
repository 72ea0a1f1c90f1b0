"""Courses, passes, authority and its expiry, and the volunteers register (the STRA eligibility
policy is in ``eligibility``)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet.training.eligibility import refusing_rule
from openbwv.fleet.training.models import AUTHORITIES, Course, TaserVolunteer, TrainingPass
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
