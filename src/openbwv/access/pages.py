"""Pages: the force's reason codes (admins add, deactivate and bring them back), and the caller's own
grants of access (state a reason, renew, end)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.access import grants, reasons
from openbwv.access.api import Durations, grant_out
from openbwv.access.models import KIND_LABELS, AccessKind
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import InvalidInput, OpenbwvError
from openbwv.inputs import RecordId
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import query_builder, render
from openbwv.web.times import local_text

router = APIRouter(include_in_schema=False)

_KINDS = [(kind.value, label) for kind, label in KIND_LABELS.items()]


def _reasons_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    form: Mapping[str, object] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": "Reasons for access",
        "reasons": reasons.list_reasons(db),
        "kinds": _KINDS,
        "labels": KIND_LABELS,
        "form": form or {},
        "error": error,
        "notice": notice,
    }
    return render(request, "access/reasons.html", context, actor=actor, status_code=status_code)


@router.get("/access/reasons", response_class=HTMLResponse)
def reasons_page(
    request: Request,
    db: Db,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.ACCESS_REASON_READ),
) -> HTMLResponse:
    """The force's reason codes and what each permits and forbids."""
    return _reasons_page(request, db, actor, notice=notice)


@router.post("/access/reasons", dependencies=[Depends(check_csrf)])
def create_reason_from_form(
    request: Request,
    db: Db,
    code: Annotated[str, Form(max_length=reasons.CODE_LENGTH)],
    label: Annotated[str, Form(max_length=reasons.LABEL_LENGTH)],
    description: Annotated[str, Form(max_length=reasons.DESCRIPTION_LENGTH)] = "",
    permits: Annotated[list[str] | None, Form(max_length=len(AccessKind))] = None,
    forbids: Annotated[list[str] | None, Form(max_length=len(AccessKind))] = None,
    actor: Actor = Require(Permission.ACCESS_REASON_WRITE),
) -> Response:
    """Add a reason code from the admin form."""
    form = {
        "code": code,
        "label": label,
        "description": description,
        "permits": permits or [],
        "forbids": forbids or [],
    }

    def redraw(refusal: OpenbwvError) -> Response:
        return _reasons_page(
            request, db, actor, form=form, error=refusal.message, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        reason = reasons.create_reason(
            db,
            actor,
            code=code,
            label=label,
            description=description,
            permits=permits or [],
            forbids=forbids or [],
        )
    return RedirectResponse(f"/access/reasons?notice={quote_plus(f'Added {reason.code}.')}", status_code=303)


def _set_active(request: Request, db: Session, actor: Actor, code: str, active: bool) -> Response:
    def redraw(refusal: OpenbwvError) -> Response:
        return _reasons_page(request, db, actor, error=refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        reason = reasons.set_reason_active(db, actor, code=code, active=active)
    done = "Brought back" if active else "Deactivated"
    return RedirectResponse(f"/access/reasons?notice={quote_plus(f'{done} {reason.code}.')}", status_code=303)


@router.post("/access/reasons/{code}/deactivate", dependencies=[Depends(check_csrf)])
def deactivate_reason_from_form(
    request: Request, code: str, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)
) -> Response:
    """Deactivate a reason code: no new grants name it."""
    return _set_active(request, db, actor, code, False)


@router.post("/access/reasons/{code}/activate", dependencies=[Depends(check_csrf)])
def activate_reason_from_form(
    request: Request, code: str, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)
) -> Response:
    """Bring a deactivated reason code back into use."""
    return _set_active(request, db, actor, code, True)


def _grants_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    limit: int = 50,
    offset: int = 0,
    form: Mapping[str, object] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = grants.list_own_grants(db, actor, limit=limit, offset=offset)
    context = {
        "title": "My access grants",
        "grants": [grant_out(g) for g in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
        "reasons": reasons.list_reasons(db, include_inactive=False),
        "kinds": _KINDS,
        "labels": {kind.value: label for kind, label in KIND_LABELS.items()},
        "form": form or {},
        "error": error,
        "notice": notice,
        "query_for": query_builder(request),
    }
    return render(request, "access/grants.html", context, actor=actor, status_code=status_code)


@router.get("/access/grants", response_class=HTMLResponse)
def grants_page(
    request: Request,
    db: Db,
    paging: Paging,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST),
) -> HTMLResponse:
    """The caller's grants of access, live ones to renew or end, and a form to state a reason."""
    return _grants_page(request, db, actor, limit=paging.limit, offset=paging.offset, notice=notice)


@router.post("/access/grants", dependencies=[Depends(check_csrf)])
def grant_access_from_form(
    request: Request,
    db: Db,
    durations: Durations,
    record_kind: Annotated[str, Form(max_length=grants.RECORD_KIND_LENGTH)],
    record_id: Annotated[str, Form(max_length=grants.RECORD_ID_LENGTH)],
    kind: Annotated[str, Form(max_length=40)],
    reason_code: Annotated[str, Form(max_length=reasons.CODE_LENGTH)],
    incident_number: Annotated[str, Form(max_length=grants.INCIDENT_LENGTH)] = "",
    note: Annotated[str, Form(max_length=grants.NOTE_LENGTH)] = "",
    minutes: Annotated[str, Form(max_length=5)] = "",
    actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST),
) -> Response:
    """State a reason for access from the form."""
    form = {
        "record_kind": record_kind,
        "record_id": record_id,
        "kind": kind,
        "reason_code": reason_code,
        "incident_number": incident_number,
        "note": note,
        "minutes": minutes,
    }

    def redraw(refusal: OpenbwvError) -> Response:
        return _grants_page(
            request, db, actor, form=form, error=refusal.message, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        grant = grants.grant_access(
            db,
            actor,
            record=grants.AccessRecord(record_kind.strip(), record_id),
            kind=kind,
            reason_code=reason_code,
            incident_number=incident_number or None,
            note=note or None,
            duration=_duration(minutes),
            durations=durations,
        )
    notice = (
        f"Granted {KIND_LABELS[AccessKind(grant.kind)]} of {grant.record_kind} {grant.record_id} "
        f"until {local_text(grant.expires_at, request.app.state.settings.zone)}."
    )
    return RedirectResponse(f"/access/grants?notice={quote_plus(notice)}", status_code=303)


def _duration(minutes: str) -> timedelta | None:
    if not minutes.strip():
        return None
    if not minutes.strip().isdigit():
        raise InvalidInput("minutes", "a whole number of minutes")
    return timedelta(minutes=int(minutes))


@router.post("/access/grants/{grant_id}/renew", dependencies=[Depends(check_csrf)])
def renew_grant_from_form(
    request: Request,
    grant_id: RecordId,
    db: Db,
    durations: Durations,
    actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST),
) -> Response:
    """Renew one of the caller's live grants for the force's usual length."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _grants_page(request, db, actor, error=refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        grant = grants.renew_grant(db, actor, grant_id=grant_id, durations=durations)
    until = local_text(grant.expires_at, request.app.state.settings.zone)
    notice = f"Renewed grant {grant.id} until {until}."
    return RedirectResponse(f"/access/grants?notice={quote_plus(notice)}", status_code=303)


@router.post("/access/grants/{grant_id}/end", dependencies=[Depends(check_csrf)])
def end_grant_from_form(
    request: Request, grant_id: RecordId, db: Db, actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST)
) -> Response:
    """End one of the caller's live grants now."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _grants_page(request, db, actor, error=refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        grant = grants.end_grant(db, actor, grant_id=grant_id)
    return RedirectResponse(
        f"/access/grants?notice={quote_plus(f'Ended grant {grant.id}.')}", status_code=303
    )
