"""The counter screen: scan a serial and press Enter; type a collar number when it asks for one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv import clock
from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import OpenbwvError
from openbwv.fleet import counter, devices, issues
from openbwv.fleet.models import Device
from openbwv.inputs import BigRecordId
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import redrawing_on_refusal, said
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)

KINDS = [
    ("", "As the device is kept (pooled camera: check-out)"),
    ("personal", "Personal issue"),
    ("pooled", "Pooled check-out"),
    ("tour", "Taser for a tour"),
]


def _counter(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    done: counter.Transaction | None = None,
    asking: Device | None = None,
    refusal: OpenbwvError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    overdue = issues.list_open_issues(db, overdue_only=True)[:50]
    focus = "serial"
    if refusal is not None:
        focus = counter.field_at_fault(refusal)
    elif asking is not None:
        focus = "collar_number"
    context = {
        "title": "Issue and return",
        "done": done,
        "asking": asking,
        "error": said(refusal) if refusal is not None else None,
        "focus": focus,
        "form": form or {"kind": ""},
        "kinds": KINDS,
        # "Today" is the force's day, not UTC's: the counter's midnight is local midnight.
        "today": counter.todays_transactions(
            db, actor, now=clock.now().astimezone(request.app.state.settings.zone)
        ),
        "overdue": overdue,
        "collars": devices.officer_collars(db, [o.issue.officer_id for o in overdue]),
    }
    return render(request, "fleet/counter.html", context, actor=actor, status_code=status_code)


@router.get("/fleet/counter", response_class=HTMLResponse)
def counter_page(
    request: Request,
    db: Db,
    done: Annotated[BigRecordId | None, Query()] = None,
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> HTMLResponse:
    """The counter screen: scan a serial and press Enter; today's transactions at this counter."""
    transaction = counter.get_transaction(db, actor, done) if done is not None else None
    return _counter(request, db, actor, done=transaction)


@router.post("/fleet/counter", dependencies=[Depends(check_csrf)])
def counter_submit(
    request: Request,
    db: Db,
    serial: Annotated[str, Form(max_length=60)] = "",
    collar_number: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=10)] = "",
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> Response:
    """Take back the scanned device if it is out; otherwise issue it to the collar number typed, or
    ask for one."""
    form = {"serial": serial, "collar_number": collar_number, "kind": kind}

    def redraw(refusal: OpenbwvError) -> Response:
        return _counter(request, db, actor, refusal=refusal, form=form, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        scanned = counter.scan(db, actor, serial=serial, collar_number=collar_number, kind=kind)
    if scanned.movement is None:
        form["serial"] = scanned.device.serial
        return _counter(request, db, actor, asking=scanned.device, form=form)
    return RedirectResponse(f"/fleet/counter?done={scanned.movement.id}", status_code=303)


@router.post("/fleet/counter/undo", dependencies=[Depends(check_csrf)])
def counter_undo(
    request: Request,
    db: Db,
    movement_id: Annotated[BigRecordId, Form()],
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> Response:
    """Undo the last issue or return made at this counter, within a minute of it."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _counter(request, db, actor, refusal=refusal, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        undone = counter.undo(db, actor, movement_id=movement_id)
    return RedirectResponse(f"/fleet/counter?done={undone.id}", status_code=303)
