from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, quote_plus, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv import clock, notifications, people
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import Conflict, InvalidInput, NotFound, OpenbwvError
from openbwv.fleet import authority, condition, credentials, devices, docking, issues, rollout, training
from openbwv.fleet.access import get_kit_owner_for
from openbwv.fleet.models import DEVICE_KINDS, DEVICE_STATES
from openbwv.fleet.schemas import MAX_BAYS
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require, can
from openbwv.web.forms import redrawing_on_refusal, said
from openbwv.web.render import query_builder, render

router = APIRouter(include_in_schema=False)


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
    holders = issues.holders_of(db, [d.id for d in rows])
    collars = devices.officer_collars(db, list(set(holders.values())))
    filters = {"q": q, "kind": kind, "state": state, "model": model, "station": station}
    context = {
        "title": "Fleet",
        "devices": rows,
        "holders": {device_id: collars[officer_id] for device_id, officer_id in holders.items()},
        "export_query": urlencode({name: value for name, value in filters.items() if value}),
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


def _new_devices(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    form: dict[str, str],
    added: str | None = None,
    refusal: OpenbwvError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    field = getattr(refusal, "field", "serial") if refusal is not None else "serial"
    context = {
        "title": "Add devices",
        "form": form,
        "added": added,
        "error": said(refusal) if refusal is not None else None,
        "focus": field if field in ("kind", "model", "station", "firmware") else "serial",
        "kinds": DEVICE_KINDS,
        "models": sorted({*devices.list_models(db), *(m.code for m in devices.list_taser_models(db))}),
        "stations": devices.list_stations(db),
        "received": devices.received_today(db, actor),
    }
    return render(request, "fleet/device_new.html", context, actor=actor, status_code=status_code)


@router.get("/fleet/devices/new", response_class=HTMLResponse)
def new_devices_page(
    request: Request,
    db: Db,
    kind: Annotated[str, Query(max_length=10)] = "camera",
    model: Annotated[str, Query(max_length=80)] = "",
    station: Annotated[str, Query(max_length=120)] = "",
    firmware: Annotated[str, Query(max_length=40)] = "",
    added: Annotated[str | None, Query(max_length=60)] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> HTMLResponse:
    """Add devices received into stock: choose the kind and model once, then scan one serial after
    another, each followed by Enter."""
    form = {"kind": kind, "model": model, "station": station, "firmware": firmware}
    return _new_devices(request, db, actor, form=form, added=added)


@router.post("/fleet/devices/new", dependencies=[Depends(check_csrf)])
def add_device(
    request: Request,
    db: Db,
    kind: Annotated[str, Form(max_length=10)] = "camera",
    model: Annotated[str, Form(max_length=80)] = "",
    station: Annotated[str, Form(max_length=120)] = "",
    firmware: Annotated[str, Form(max_length=40)] = "",
    serial: Annotated[str, Form(max_length=60)] = "",
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> Response:
    """Register one scanned device, then come back to the form for the next serial."""
    form = {"kind": kind, "model": model, "station": station, "firmware": firmware}

    def redraw(refusal: OpenbwvError) -> Response:
        return _new_devices(
            request,
            db,
            actor,
            form={**form, "serial": serial},
            refusal=refusal,
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw):
        device = devices.receive_device(
            db, actor, kind=kind, serial=serial, model=model, station=station, firmware=firmware
        )
    query = urlencode({**{k: v for k, v in form.items() if v}, "added": device.serial})
    return RedirectResponse(f"/fleet/devices/new?{query}", status_code=303)


def _device_page(
    request: Request,
    db: Db,
    actor: Actor,
    serial: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    new_credential: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    device = devices.get_device(db, serial)
    if device is None:
        raise NotFound("device")
    history = devices.device_history(db, device)
    bays = devices.bays_of(db, device) if device.kind == "taser" else []
    context = {
        "title": f"Device {device.serial}",
        "device": device,
        "history": history,
        "names": devices.officer_names(db, [m.officer_id for m in history]),
        "bays": bays,
        "docked_cameras": docking.cameras_in(db, device) if device.kind == "dock" else [],
        "dock": docking.dock_of(db, device) if device.kind == "camera" else None,
        "free_bays": [bay for bay, cartridge in bays if cartridge is None or cartridge.discharged],
        "credential": credentials.credential_of(db, device),
        "can_sign_in": device.kind in credentials.SCOPES_BY_KIND,
        "may_manage": can(actor, Permission.FLEET_DEVICE_WRITE),
        "new_credential": new_credential,
        "states": devices.next_states(device),
        "missing": devices.missing_since(db, device),
        "form": form or {},
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


@router.post("/fleet/devices/{serial}/state", dependencies=[Depends(check_csrf)])
def change_device_state(
    request: Request,
    serial: str,
    db: Db,
    state: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=1000)] = "",
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> Response:
    """Send a device to repair, report it lost or stolen, retire it, or put it back in stock."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _device_page(
            request,
            db,
            actor,
            serial,
            error=said(refusal),
            form={"state": state, "note": note},
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw):
        device = devices.change_state(db, actor, serial=serial, state=state, note=note)
    notice = f"{device.kind.capitalize()} {device.serial} is now {device.state.replace('_', ' ')}."
    return RedirectResponse(
        f"/fleet/devices/{quote(device.serial, safe='')}?notice={quote_plus(notice)}", status_code=303
    )


@router.post("/fleet/devices/{serial}/cartridges", dependencies=[Depends(check_csrf)])
def load_cartridge(
    request: Request,
    serial: str,
    db: Db,
    bay: Annotated[str, Form(max_length=3)],
    cartridge: Annotated[str, Form(max_length=60)] = "",
    lot: Annotated[str, Form(max_length=60)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> Response:
    """Load a cartridge into an empty bay of a Taser, or in place of a discharged one."""
    form = {"bay": bay, "cartridge": cartridge, "lot": lot, "expires_on": expires_on}

    def redraw(refusal: OpenbwvError) -> Response:
        return _device_page(
            request, db, actor, serial, error=said(refusal), form=form, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        loaded = devices.load_cartridge(
            db,
            actor,
            taser_serial=serial,
            serial=_required(cartridge, "cartridge", "the cartridge's serial is required"),
            lot=_required(lot, "lot", "the cartridge's lot is required"),
            expires_on=_form_date(expires_on, "expires_on", "the cartridge's expiry date"),
            bay=_form_bay(bay),
        )
    notice = f"Cartridge {loaded.serial} is loaded in bay {loaded.bay}."
    return _back_to_device(serial, notice)


@router.post("/fleet/devices/{serial}/cartridges/{bay}/discharge", dependencies=[Depends(check_csrf)])
def discharge_cartridge(
    request: Request,
    serial: str,
    bay: str,
    db: Db,
    note: Annotated[str, Form(max_length=1000)] = "",
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> Response:
    """Mark the cartridge in a bay discharged (found spent, fired in training): the Taser is not
    issued again until it is replaced."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _device_page(request, db, actor, serial, error=said(refusal), status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        spent = condition.discharge_cartridge(
            db, actor, taser_serial=serial, bay=_form_bay(bay), note=note.strip() or None
        )
    return _back_to_device(serial, f"Cartridge {spent.serial} in bay {bay} is marked discharged.")


def _required(value: str, field: str, reason: str) -> str:
    if not value.strip():
        raise InvalidInput(field, reason)
    return value.strip()


def _form_bay(value: str) -> int:
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_BAYS:
        raise InvalidInput("bay", "choose one of the Taser's bays")
    return int(value)


def _form_date(value: str, field: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, f"give {what} as a date, e.g. 2027-06-30") from None


def _back_to_device(serial: str, notice: str) -> Response:
    return RedirectResponse(
        f"/fleet/devices/{quote(serial.strip(), safe='')}?notice={quote_plus(notice)}", status_code=303
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
        "rules": training.describe_eligibility_rules(db, today=on or clock.today(), limit=20),
        "volunteers": len(training.list_volunteers(db)),
    }
    return render(request, "fleet/expiry.html", context, actor=actor)


def _rollout_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    phases = rollout.rollout_progress(db)
    context = {
        "title": "Roll-out",
        "phases": phases,
        "today": clock.today(),
        "chart_height": 30 * len(phases) + 30,
        "units": people.list_units(db),
        "notice": notice,
        "form": form or {},
        "error": error,
    }
    return render(request, "fleet/rollout.html", context, actor=actor, status_code=status_code)


@router.get("/fleet/rollout", response_class=HTMLResponse)
def rollout_page(
    request: Request,
    db: Db,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> HTMLResponse:
    """Roll-out progress by phase and unit, with a bar chart; equipment managers add phases here."""
    return _rollout_page(request, db, actor, notice=notice)


@router.post("/fleet/rollout/phases", dependencies=[Depends(check_csrf)])
def add_phase(
    request: Request,
    db: Db,
    name: Annotated[str, Form(min_length=1, max_length=120)],
    unit: Annotated[str, Form(min_length=1, max_length=40)],
    target_cameras: Annotated[int, Form(ge=0, le=100_000)],
    starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()],
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> Response:
    """Add a roll-out phase: a unit, its camera target and its dates."""
    entered = {
        "name": name,
        "unit": unit,
        "target_cameras": str(target_cameras),
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
    }

    def redraw(refusal: OpenbwvError) -> Response:
        return _rollout_page(
            request, db, actor, form=entered, error=said(refusal), status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        phase = rollout.create_phase(
            db,
            actor,
            name=name,
            unit=unit,
            target_cameras=target_cameras,
            starts_on=starts_on,
            ends_on=ends_on,
        )
    notice = f"Phase {phase.name} added: {phase.target_cameras} cameras by {phase.ends_on.isoformat()}."
    return RedirectResponse(f"/fleet/rollout?notice={quote_plus(notice)}", status_code=303)
