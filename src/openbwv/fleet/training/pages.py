"""The training manager's records page: passes, the STRA eligibility policy and the volunteers register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv import clock, people
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import OpenbwvError
from openbwv.fleet.training import eligibility, service
from openbwv.fleet.training.models import AUTHORITIES
from openbwv.policy import Actor, Permission, Require, can
from openbwv.web.forms import redrawing_on_refusal, said
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


def _records_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    notice: str | None = None,
    error: str | None = None,
    entered: dict[str, dict[str, str]] | None = None,
    warnings: list[service.PassWarning] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = clock.today()
    volunteers = service.list_volunteers(db)
    officers = people.officers_by_ids(db, (v.officer_id for v in volunteers))
    context = {
        "title": "Training records",
        "notice": notice,
        "error": error,
        # The values of a refused form, by form ("pass", "rule", "volunteer"), to draw it again.
        "entered": entered or {},
        # What to confirm before the pass entered is recorded (an ineligible officer, a repeat).
        "warnings": warnings or [],
        "today": today,
        "courses": service.list_courses(db),
        "authorities": AUTHORITIES,
        "ranks": people.list_ranks(db),
        "units": people.list_units(db),
        "rules": eligibility.describe_eligibility_rules(db, today=today),
        "rule_actions": can(actor, Permission.TRAINING_POLICY_WRITE),
        "volunteers": [(v, officers[v.officer_id]) for v in volunteers],
    }
    return render(request, "training/records.html", context, actor=actor, status_code=status_code)


def _redraw(
    request: Request, db: Db, actor: Actor, name: str, values: dict[str, str]
) -> Callable[[OpenbwvError], Response]:
    """Draw the records page again with the refusal, and the refused form with what was entered."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _records_page(
            request, db, actor, error=said(refusal), entered={name: values}, status_code=refusal.status_code
        )

    return redraw


def _done(message: str) -> Response:
    return RedirectResponse(f"/training?notice={quote_plus(message)}", status_code=303)


@router.get("/training", response_class=HTMLResponse)
def records_page(
    request: Request,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.TRAINING_RECORD_READ),
) -> HTMLResponse:
    """Record passes, set the eligibility policy and keep the volunteers register."""
    return _records_page(request, db, actor, notice=notice)


@router.post("/training/passes", dependencies=[Depends(check_csrf)])
def record_pass_from_form(
    request: Request,
    db: Db,
    collar_number: Annotated[str, Form(max_length=20)],
    course: Annotated[str, Form(max_length=40)],
    passed_on: Annotated[date, Form()],
    trainer: Annotated[str, Form(max_length=200)] = "",
    confirmed: Annotated[str, Form(pattern="^(|yes)$")] = "",
    actor: Actor = Require(Permission.TRAINING_RECORD_WRITE),
) -> Response:
    """Record that an officer passed a course; first warn, and ask again, when the policy rules the
    officer out of the authority the course grants or the same pass is already recorded."""
    entered = {
        "collar_number": collar_number,
        "course": course,
        "passed_on": passed_on.isoformat(),
        "trainer": trainer,
    }
    with redrawing_on_refusal(db, _redraw(request, db, actor, "pass", entered)):
        if confirmed != "yes":
            warnings = service.pass_warnings(
                db, collar_number=collar_number, course=course, passed_on=passed_on, today=clock.today()
            )
            if warnings:
                return _records_page(request, db, actor, entered={"pass": entered}, warnings=warnings)
        row = service.record_pass(
            db,
            actor,
            collar_number=collar_number,
            course=course,
            passed_on=passed_on,
            trainer=trainer or None,
        )
    expiry = f"; in date until {row.expires_on.isoformat()}" if row.expires_on else ""
    return _done(
        f"Recorded {row.course_code} passed by {collar_number.strip().upper()} on {passed_on}{expiry}."
    )


@router.post("/training/eligibility", dependencies=[Depends(check_csrf)])
def set_eligibility_from_form(
    request: Request,
    db: Db,
    authority: Annotated[str, Form(max_length=20)],
    effective_from: Annotated[date, Form()],
    eligible: Annotated[str, Form(pattern="^(yes|no)$")],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    rank: Annotated[str, Form(max_length=40)] = "",
    unit: Annotated[str, Form(max_length=40)] = "",
    actor: Actor = Require(Permission.TRAINING_POLICY_WRITE),
) -> Response:
    """Add a STRA decision to the eligibility policy."""
    entered = {
        "authority": authority,
        "rank": rank,
        "unit": unit,
        "eligible": eligible,
        "effective_from": effective_from.isoformat(),
        "reason": reason,
    }
    with redrawing_on_refusal(db, _redraw(request, db, actor, "rule", entered)):
        eligibility.set_eligibility(
            db,
            actor,
            authority=authority,
            rank=rank or None,
            unit=unit or None,
            eligible=eligible == "yes",
            effective_from=effective_from,
            reason=reason,
        )
    return _done(f"Eligibility rule for {authority} from {effective_from} saved.")


@router.post("/training/volunteers", dependencies=[Depends(check_csrf)])
def add_volunteer_from_form(
    request: Request,
    db: Db,
    collar_number: Annotated[str, Form(max_length=20)],
    volunteered_on: Annotated[date, Form()],
    actor: Actor = Require(Permission.TRAINING_RECORD_WRITE),
) -> Response:
    """Put an officer on the Taser volunteers register."""
    entered = {"collar_number": collar_number, "volunteered_on": volunteered_on.isoformat()}
    with redrawing_on_refusal(db, _redraw(request, db, actor, "volunteer", entered)):
        service.add_volunteer(db, actor, collar_number=collar_number, volunteered_on=volunteered_on)
    return _done(f"{collar_number.strip().upper()} is on the Taser volunteers register.")


@router.post("/training/volunteers/{collar_number}/withdraw", dependencies=[Depends(check_csrf)])
def withdraw_volunteer_from_form(
    collar_number: str, db: Db, actor: Actor = Require(Permission.TRAINING_RECORD_WRITE)
) -> Response:
    """Take an officer off the Taser volunteers register."""
    service.withdraw_volunteer(db, actor, collar_number=collar_number)
    return _done(f"{collar_number.strip().upper()} is off the Taser volunteers register.")


@router.post("/training/eligibility/{rule_id}/withdraw", dependencies=[Depends(check_csrf)])
def withdraw_eligibility_from_form(
    request: Request,
    rule_id: int,
    db: Db,
    reason: Annotated[str, Form(max_length=500)],
    actor: Actor = Require(Permission.TRAINING_POLICY_WRITE),
) -> Response:
    """Withdraw an eligibility rule: from today it no longer applies."""
    with redrawing_on_refusal(db, _redraw(request, db, actor, "withdraw", {"reason": reason})):
        rule = eligibility.withdraw_eligibility(db, actor, rule_id=rule_id, reason=reason)
    return _done(f"Eligibility rule {rule.id} withdrawn: it no longer applies from {rule.ends_on}.")


@router.post("/training/eligibility/{rule_id}/supersede", dependencies=[Depends(check_csrf)])
def supersede_eligibility_from_form(
    request: Request,
    rule_id: int,
    db: Db,
    eligible: Annotated[str, Form(pattern="^(yes|no)$")],
    effective_from: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=500)],
    actor: Actor = Require(Permission.TRAINING_POLICY_WRITE),
) -> Response:
    """Replace an eligibility rule with a new decision for the same rank and unit from a date."""
    entered = {"eligible": eligible, "effective_from": effective_from.isoformat(), "reason": reason}
    with redrawing_on_refusal(db, _redraw(request, db, actor, "supersede", entered)):
        new = eligibility.supersede_eligibility(
            db,
            actor,
            rule_id=rule_id,
            eligible=eligible == "yes",
            effective_from=effective_from,
            reason=reason,
        )
    return _done(f"Eligibility rule {rule_id} replaced by rule {new.id} from {new.effective_from}.")
