from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv import clock, notifications
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import Conflict, InvalidInput, NotFound, OpenbwvError
from openbwv.fleet import authority, credentials, devices, issues, rollout, training
from openbwv.fleet.access import get_kit_owner_for
from openbwv.fleet.models import DEVICE_KINDS, DEVICE_STATES
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require, can
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import query_builder, render

router = APIRouter(include_in_schema=False)


def _counter(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    overdue = issues.list_open_issues(db, overdue_only=True)[:50]
    context = {
        "title": "Issue and return",
        "notice": notice,
        "error": error,
        "form": form or {"kind": "personal"},
        "overdue": overdue,
        "collars": devices.officer_collars(db, [o.issue.officer_id for o in overdue]),
    }
    return render(request, "fleet/counter.html", context, actor=actor, status_code=status_code)


@router.get("/fleet/counter", response_class=HTMLResponse)
def counter_page(
    request: Request,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> HTMLResponse:
    """The counter screen: scan a serial, type a collar number, done."""
    return _counter(request, db, actor, notice=notice)


@router.post("/fleet/counter", dependencies=[Depends(check_csrf)])
def counter_submit(
    request: Request,
    db: Db,
    serial: Annotated[str, Form(min_length=1, max_length=60)],
    action: Annotated[str, Form(pattern="^(issue|return)$")] = "issue",
    collar_number: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=10)] = "personal",
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> Response:
    """Issue the scanned device to the officer, or take it back."""
    form = {"serial": serial, "collar_number": collar_number, "kind": kind}

    def redraw(refusal: OpenbwvError) -> Response:
        return _counter(request, db, actor, error=refusal.message, form=form, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        if action == "return":
            issues.return_device(db, actor, device_serial=serial)
            notice = f"{serial.strip().upper()} returned."
        else:
            if not collar_number.strip():
                raise InvalidInput("collar_number", "type the officer's collar number")
            issue = issues.issue_device(
                db, actor, device_serial=serial, collar_number=collar_number, kind=kind
            )
            notice = (
                f"{serial.strip().upper()} issued to officer {collar_number.strip().upper()} ({issue.kind})."
            )
    return RedirectResponse(f"/fleet/counter?notice={quote_plus(notice)}", status_code=303)


@router.get("/fleet/devices", response_class=HTMLResponse)
def devices_page(
    request: Request,
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=60)] = None,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    model: Annotated[str | None, Query(max_length=80)] = None,
    station: Annotated[str | None, Query(max_length=120)] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> HTMLResponse:
    """Search the fleet and filter it by kind, state, model and station."""
    where = devices.DeviceFilter(
        kind=kind or None, state=state or None, model=model or None, station=station or None, search=q or None
    )
    rows, total = devices.list_devices(db, where=where, limit=paging.limit, offset=paging.offset)
    context = {
        "title": "Fleet",
        "devices": rows,
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
        "q": q,
        "kind": kind,
        "state": state,
        "model": model,
        "station": station,
        "kinds": DEVICE_KINDS,
        "states": DEVICE_STATES,
        "models": devices.list_models(db),
        "stations": devices.list_stations(db),
        "query_for": query_builder(request),
    }
    return render(request, "fleet/devices.html", context, actor=actor)


def _device_page(
    request: Request,
    db: Db,
    actor: Actor,
    serial: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    new_credential: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    device = devices.get_device(db, serial)
    if device is None:
        raise NotFound("device")
    history = devices.device_history(db, device)
    context = {
        "title": f"Device {device.serial}",
        "device": device,
        "history": history,
        "names": devices.officer_names(db, [m.officer_id for m in history]),
        "cartridges": devices.cartridges_of(db, device.id) if device.kind == "taser" else [],
        "credential": credentials.credential_of(db, device),
        "can_sign_in": device.kind in credentials.SCOPES_BY_KIND,
        "may_manage": can(actor, Permission.FLEET_DEVICE_WRITE),
        "new_credential": new_credential,
        "notice": notice,
        "error": error,
    }
    return render(request, "fleet/device.html", context, actor=actor, status_code=status_code)


@router.get("/fleet/devices/{serial}", response_class=HTMLResponse)
def device_page(
    request: Request,
    serial: str,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> HTMLResponse:
    """One device, its credential and every movement it has made."""
    return _device_page(request, db, actor, serial, notice=notice)


@router.post("/fleet/devices/{serial}/credential", dependencies=[Depends(check_csrf)])
def issue_credential(
    request: Request, serial: str, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Response:
    """Issue the device a new credential, revoking the old one; the page shows it this once."""
    try:
        device, raw = credentials.issue_credential(db, actor, serial=serial)
    except Conflict as refusal:
        return _device_page(
            request, db, actor, serial, error=refusal.message, status_code=refusal.status_code
        )
    # Shown in this answer rather than after a redirect: the credential must never travel in a URL.
    return _device_page(request, db, actor, device.serial, new_credential=raw)


@router.post("/fleet/devices/{serial}/credential/revoke", dependencies=[Depends(check_csrf)])
def revoke_credential(
    request: Request, serial: str, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Response:
    """Revoke the device's credential: it stops working at once."""
    try:
        revoked = credentials.revoke_credential(db, actor, serial=serial)
    except Conflict as refusal:
        return _device_page(
            request, db, actor, serial, error=refusal.message, status_code=refusal.status_code
        )
    notice = f"The credential of {revoked.device_serial} is revoked."
    return RedirectResponse(
        f"/fleet/devices/{quote(revoked.device_serial, safe='')}?notice={quote_plus(notice)}", status_code=303
    )


@router.get("/kit")
def my_kit(db: Db, actor: Actor = Require(Permission.SELF_READ)) -> Response:
    """The signed-in officer's own kit and training."""
    if actor.officer_id is None:
        raise NotFound("officer record linked to this account")
    collars = devices.officer_collars(db, [actor.officer_id])
    return RedirectResponse(f"/officers/{collars[actor.officer_id]}/kit", status_code=303)


@router.get("/officers/{collar_number}/kit", response_class=HTMLResponse)
def kit_page(
    request: Request, collar_number: str, db: Db, actor: Actor = Require(Permission.SELF_READ)
) -> HTMLResponse:
    """An officer's kit, kit history and training with expiry dates."""
    officer = get_kit_owner_for(db, actor, collar_number)
    if officer is None:
        raise NotFound("officer")
    today = clock.today()
    context = {
        "title": f"Kit and training: {officer.collar_number}",
        "officer": officer,
        "holding": issues.officer_kit(db, officer.id),
        "history": devices.officer_history(db, officer.id),
        "training": training.officer_training(db, officer.id, today=today),
        "volunteer": training.is_volunteer(db, officer.id),
        "notifications": notifications.officer_notifications(db, officer.id),
    }
    return render(request, "fleet/kit.html", context, actor=actor)


@router.get("/training/expiry", response_class=HTMLResponse)
def expiry_dashboard(
    request: Request,
    db: Db,
    on: date | None = None,
    actor: Actor = Require(Permission.TRAINING_RECORD_READ),
) -> HTMLResponse:
    """The training manager's view: authorities lapsing soon, lapsed or ineligible ones with a Taser out."""
    found = authority.find_authority_exceptions(db, today=on or clock.today())
    context = {
        "title": "Authority expiry",
        "found": found,
        "rules": training.list_eligibility_rules(db)[:20],
        "volunteers": len(training.list_volunteers(db)),
    }
    return render(request, "fleet/expiry.html", context, actor=actor)


@router.get("/fleet/rollout", response_class=HTMLResponse)
def rollout_page(
    request: Request, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_READ)
) -> HTMLResponse:
    """Roll-out progress by phase and unit, with a bar chart."""
    phases = rollout.rollout_progress(db)
    context = {"title": "Roll-out", "phases": phases, "chart_height": 30 * len(phases) + 30}
    return render(request, "fleet/rollout.html", context, actor=actor)
