"""Taser pages: the officer's report form with a map, the list of reports, and a report's page with
its linked clips, its history and the supervisor's sign-off."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv import fleet, footage, people
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import Forbidden, NotFound, OpenbwvError
from openbwv.inputs import Input, RecordId
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import linking, review, service, vocabulary
from openbwv.taser.models import Deployment
from openbwv.taser.schemas import DeploymentIn
from openbwv.web.forms import redrawing_on_refusal, said
from openbwv.web.render import render
from openbwv.web.times import MissingLocalTime, input_value, parse_local
from openbwv.web.vendor import library_served

router = APIRouter(include_in_schema=False)

FLAGS = (
    ("subject_injured", "Subject injured"),
    ("subject_medical_attention", "Subject given medical attention"),
    ("officer_injured", "Officer injured"),
    ("officer_medical_attention", "Officer given medical attention"),
    ("officer_assaulted", "Officer assaulted"),
)
LABELS = {
    "collar_number": "Collar number",
    "taser_serial": "Taser serial",
    "occurred_at": "When",
    "lat": "Latitude",
    "lon": "Longitude",
    "location_type": "Location type",
    "incident_number": "Incident number",
    "levels": "Levels used",
    "cartridge_bays": "Cartridge bays discharged",
    "reasons": "Reasons",
    "impact_factors": "Impact factors",
    "subject_age_band": "Subject's age band",
    "subject_gender": "Subject's gender",
    "subject_ethnicity": "Subject's perceived ethnicity",
    "subject_self_defined_ethnicity": "Subject's self-defined ethnicity",
    "outcome": "Outcome",
}


class DeploymentForm(Input):
    """The report form as the browser sends it: every value a string, repeated keys as lists."""

    collar_number: str = ""
    taser_serial: str = ""
    occurred_at: str = ""
    lat: str = ""
    lon: str = ""
    location_type: str = ""
    incident_number: str = ""
    levels: list[str] = []
    cartridge_bays: list[str] = []
    reasons: list[str] = []
    impact_factors: list[str] = []
    subject_age_band: str = ""
    subject_gender: str = ""
    subject_ethnicity: str = ""
    subject_self_defined_ethnicity: str = ""
    flags: list[str] = []
    outcome: str = ""


def _utc_of(when: str, zone: ZoneInfo) -> str:
    """The form's time, typed in the force's zone, as the API's UTC; what cannot be read is passed on
    for the API's own check to name, and a time the clocks skipped is refused here."""
    if not when:
        return when
    try:
        return parse_local(when, zone).isoformat()
    except MissingLocalTime as missing:
        error = InitErrorDetails(
            type=PydanticCustomError("missing_local_time", str(missing)), loc=("occurred_at",), input=when
        )
        raise ValidationError.from_exception_data("DeploymentForm", [error]) from None
    except ValueError:
        return when


def _request_of(form: DeploymentForm, zone: ZoneInfo) -> DeploymentIn:
    """The API's request from the form: a time without a zone is in the force's zone, blank choices
    are none, and the cartridges discharged are the bays ticked."""
    when = _utc_of(form.occurred_at.strip(), zone)
    body: dict[str, Any] = {
        "collar_number": form.collar_number.strip(),
        "taser_serial": form.taser_serial.strip(),
        "occurred_at": when,
        "lat": form.lat.strip(),
        "lon": form.lon.strip(),
        "location_type": form.location_type,
        "incident_number": form.incident_number.strip(),
        "levels": form.levels,
        "cartridges_discharged": len(form.cartridge_bays),
        "cartridge_bays": form.cartridge_bays,
        "reasons": form.reasons,
        "impact_factors": form.impact_factors,
        "subject_age_band": form.subject_age_band or None,
        "subject_gender": form.subject_gender.strip() or None,
        "subject_ethnicity": form.subject_ethnicity or None,
        "subject_self_defined_ethnicity": form.subject_self_defined_ethnicity or None,
        "outcome": form.outcome,
        **{name: name in form.flags for name, _ in FLAGS},
    }
    return DeploymentIn.model_validate(body)


def _in_the_forms_words(error: ValidationError) -> str:
    """Pydantic's complaints in the form's own words."""
    parts = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        parts.append(f"{LABELS.get(field, field.replace('_', ' '))}: {problem['msg']}")
    return "; ".join(parts)


def _form_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: DeploymentForm,
    *,
    editing: Deployment | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = request.app.state.settings
    context = {
        "title": f"Edit Taser deployment report {editing.id}" if editing else "Taser deployment report",
        "editing": editing,
        "form": form,
        "error": error,
        "vocabulary": vocabulary,
        "flags": FLAGS,
        "bays": range(1, 3),
        "leaflet": library_served(request, "leaflet"),
        "tile_url": settings.map_tile_url,
        "tile_attribution": settings.map_tile_attribution,
    }
    return render(request, "taser/form.html", context, actor=actor, status_code=status_code)


def _own_taser(db: Session, actor: Actor) -> tuple[str, str]:
    """The actor's collar number and the Taser they hold now, to fill the form in."""
    if actor.officer_id is None:
        return "", ""
    officer = people.get_officer_by_id(db, actor.officer_id)
    if officer is None:
        return "", ""
    held = [device.serial for _, device in fleet.officer_kit(db, officer.id) if device.kind == "taser"]
    return officer.collar_number, held[0] if held else ""


@router.get("/taser/deployments/new", response_class=HTMLResponse)
def new_deployment_page(
    request: Request, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE)
) -> HTMLResponse:
    """The report form, with the officer's collar number and Taser filled in."""
    collar, serial = _own_taser(db, actor)
    form = DeploymentForm(collar_number=collar, taser_serial=serial)
    return _form_page(request, db, actor, form)


@router.post("/taser/deployments/new", dependencies=[Depends(check_csrf)])
def file_deployment_from_form(
    request: Request,
    db: Db,
    form: Annotated[DeploymentForm, Form()],
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE),
) -> Response:
    """File the report; a refusal redraws the form with the rule's message and what was entered."""
    try:
        body = _request_of(form, request.app.state.settings.zone)
    except ValidationError as error:
        return _form_page(request, db, actor, form, error=_in_the_forms_words(error), status_code=422)

    def redraw(refusal: OpenbwvError) -> Response:
        return _form_page(request, db, actor, form, error=said(refusal), status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw, also=(service.DeploymentRefused, Forbidden)):
        deployment = service.file_deployment(db, actor, body)
    notice = f"Report {deployment.id} filed with {len(_links(db, deployment.id))} linked clip(s)."
    return RedirectResponse(
        f"/taser/deployments/{deployment.id}?notice={quote_plus(notice)}", status_code=303
    )


def _form_of(deployment: Deployment, collar: str, zone: ZoneInfo) -> DeploymentForm:
    """The form filled in with what the report says now (its time in the force's zone)."""
    flags = [name for name, _ in FLAGS if getattr(deployment, name)]
    return DeploymentForm(
        collar_number=collar,
        taser_serial=deployment.taser_serial,
        occurred_at=input_value(deployment.occurred_at, zone, seconds=True),
        lat=f"{deployment.lat:.6f}",
        lon=f"{deployment.lon:.6f}",
        location_type=deployment.location_type,
        incident_number=deployment.incident_number,
        levels=list(deployment.levels),
        cartridge_bays=[str(bay) for bay in deployment.cartridge_bays],
        reasons=list(deployment.reasons),
        impact_factors=list(deployment.impact_factors),
        subject_age_band=deployment.subject_age_band or "",
        subject_gender=deployment.subject_gender or "",
        subject_ethnicity=deployment.subject_ethnicity or "",
        subject_self_defined_ethnicity=deployment.subject_self_defined_ethnicity or "",
        flags=flags,
        outcome=deployment.outcome,
    )


def _editable(db: Session, actor: Actor, deployment_id: int) -> Deployment:
    deployment = service.get_deployment(db, actor, deployment_id)
    if deployment is None:
        raise NotFound("deployment report")
    return deployment


@router.get("/taser/deployments/{deployment_id}/edit", response_class=HTMLResponse)
def edit_deployment_page(
    request: Request,
    deployment_id: RecordId,
    db: Db,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE),
) -> HTMLResponse:
    """The report's form filled in, to put right what a supervisor returned, or to correct a
    signed-off report (a new version, the old one kept)."""
    deployment = _editable(db, actor, deployment_id)
    collar = service.collar_numbers(db, [deployment]).get(deployment.officer_id, "")
    return _form_page(
        request, db, actor, _form_of(deployment, collar, request.app.state.settings.zone), editing=deployment
    )


@router.post("/taser/deployments/{deployment_id}/edit", dependencies=[Depends(check_csrf)])
def edit_deployment_from_form(
    request: Request,
    deployment_id: RecordId,
    db: Db,
    form: Annotated[DeploymentForm, Form()],
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE),
) -> Response:
    """Save the edit; a refusal redraws the form with the rule's message and what was entered."""
    deployment = _editable(db, actor, deployment_id)
    try:
        body = _request_of(form, request.app.state.settings.zone)
    except ValidationError as error:
        return _form_page(
            request, db, actor, form, editing=deployment, error=_in_the_forms_words(error), status_code=422
        )

    def redraw(refusal: OpenbwvError) -> Response:
        return _form_page(
            request,
            db,
            actor,
            form,
            editing=deployment,
            error=said(refusal),
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw, also=(service.DeploymentRefused, Forbidden)):
        review.edit_deployment(db, actor, deployment_id, body)
    notice = f"Report {deployment_id} saved as version {deployment.version}, submitted for sign-off."
    return RedirectResponse(
        f"/taser/deployments/{deployment_id}?notice={quote_plus(notice)}", status_code=303
    )


def _links(db: Session, deployment_id: int) -> list[dict[str, Any]]:
    links = linking.linked_clips(db, [deployment_id])[deployment_id]
    spans = footage.clip_spans(db, {link.clip_id for link in links})
    return [
        {"clip_id": link.clip_id, "reason": link.reason.replace("_", " "), "span": spans[link.clip_id]}
        for link in links
    ]


@router.get("/taser/deployments", response_class=HTMLResponse)
def deployments_page(
    request: Request, db: Db, paging: Paging, actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN)
) -> HTMLResponse:
    """The reports the caller may read, newest use first."""
    rows, total = service.list_deployments(
        db, actor, where=service.DeploymentFilter(), limit=paging.limit, offset=paging.offset
    )
    context = {
        "title": "Taser deployment reports",
        "rows": rows,
        "total": total,
        "collars": service.collar_numbers(db, rows),
        "links": linking.linked_clips(db, [d.id for d in rows]),
    }
    return render(request, "taser/list.html", context, actor=actor)


def _report_page(
    request: Request,
    db: Session,
    actor: Actor,
    deployment_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    deployment = service.get_deployment(db, actor, deployment_id)
    if deployment is None:
        raise NotFound("deployment report")
    context = {
        "title": f"Taser deployment report {deployment.id}",
        "d": deployment,
        "collar": service.collar_numbers(db, [deployment]).get(deployment.officer_id, ""),
        "clips": _links(db, deployment.id),
        "versions": review.versions(db, deployment.id),
        "reviews": review.reviews(db, deployment.id),
        "discharge": deployment.highest_level in vocabulary.DISCHARGE_LEVELS,
        "notice": notice,
        "error": error,
    }
    return render(request, "taser/report.html", context, actor=actor, status_code=status_code)


@router.get("/taser/deployments/{deployment_id}", response_class=HTMLResponse)
def deployment_page(
    request: Request,
    deployment_id: RecordId,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN),
) -> HTMLResponse:
    """One report: what it says, its linked clips, its versions and reviews, and sign-off."""
    return _report_page(request, db, actor, deployment_id, notice=notice)


def _reviewed(
    request: Request, db: Session, actor: Actor, deployment_id: int, decide: Any, done: str
) -> Response:
    def redraw(refusal: OpenbwvError) -> Response:
        return _report_page(
            request, db, actor, deployment_id, error=said(refusal), status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw, also=(Forbidden,)):
        if decide() is None:
            raise NotFound("deployment report")
    return RedirectResponse(f"/taser/deployments/{deployment_id}?notice={quote_plus(done)}", status_code=303)


@router.post("/taser/deployments/{deployment_id}/sign-off", dependencies=[Depends(check_csrf)])
def sign_off_from_form(
    request: Request,
    deployment_id: RecordId,
    db: Db,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_SIGN_OFF),
) -> Response:
    """Sign the report off."""
    return _reviewed(
        request, db, actor, deployment_id, lambda: review.sign_off(db, actor, deployment_id), "Signed off."
    )


@router.post("/taser/deployments/{deployment_id}/return", dependencies=[Depends(check_csrf)])
def return_from_form(
    request: Request,
    deployment_id: RecordId,
    db: Db,
    comment: Annotated[str, Form(max_length=2000)] = "",
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_SIGN_OFF),
) -> Response:
    """Return the report to its officer with comments."""
    return _reviewed(
        request,
        db,
        actor,
        deployment_id,
        lambda: review.return_report(db, actor, deployment_id, comment=comment),
        "Returned to the officer.",
    )
