"""The auditor's pages: search events, one event with its proof, the log's checkpoint and verification,
and professional standards' alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.audit import alerts, evidence, log, misuse, proofs, thresholds, verification
from openbwv.audit.api import AlertState, b64, running_rules
from openbwv.audit.service import EventFilter, actions_described_by, list_events
from openbwv.config import Settings
from openbwv.csrf import check_csrf
from openbwv.db import Db, SessionFactory
from openbwv.errors import Conflict, InvalidInput, NotFound, OpenbwvError
from openbwv.inputs import BigRecordId
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import query_builder, render
from openbwv.web.times import MissingLocalTime, from_local

router = APIRouter(include_in_schema=False)
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d")


def _moment(field: str, value: str | None, zone: ZoneInfo) -> datetime | None:
    """A form's ``datetime-local`` or date value, read in the force's zone, as UTC."""
    if not value:
        return None
    for pattern in TIME_FORMATS:
        try:
            local = datetime.strptime(value, pattern)
        except ValueError:
            continue
        try:
            return from_local(local, zone)
        except MissingLocalTime as missing:
            raise InvalidInput(field, f"{missing}.") from None
    raise InvalidInput(field, "give a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/audit", response_class=HTMLResponse)
def events_page(
    request: Request,
    db: Db,
    paging: Paging,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=150)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    target_type: Annotated[str | None, Query(max_length=60)] = None,
    target_id: Annotated[str | None, Query(max_length=120)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
    until: Annotated[str | None, Query(max_length=20)] = None,
    actor: Actor = Require(Permission.AUDIT_EVENT_READ),
) -> HTMLResponse:
    """Search the audit trail by actor, action, target, reason and time."""
    # Words ("login failed") search the actions' names; a name ("auth:login:failed") or a family
    # ("auth:*") is found as itself.
    named = action is not None and (":" in action or action.endswith("*"))
    where = EventFilter(
        actor_prefix=actor_name or None,
        action=action if named else None,
        action_words=None if named else action or None,
        target_type=target_type or None,
        target_id=target_id or None,
        reason=reason or None,
        since=_moment("since", since, _settings(request).zone),
        until=_moment("until", until, _settings(request).zone),
    )
    events, total = list_events(db, where=where, limit=paging.limit, offset=paging.offset)
    context = {
        "title": "Audit trail",
        "events": events,
        "leaves": proofs.leaf_indexes(db, [e.id for e in events]),
        "total": total,
        "actions_found": actions_described_by(where.action_words) if where.action_words else None,
        "limit": paging.limit,
        "offset": paging.offset,
        "form": {
            "actor": actor_name,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "reason": reason,
            "since": since,
            "until": until,
        },
        "query_for": query_builder(request),
    }
    return render(request, "audit/events.html", context, actor=actor)


@router.get("/audit/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, event_id: BigRecordId, db: Db, actor: Actor = Require(Permission.AUDIT_EVENT_READ)
) -> HTMLResponse:
    """One event, its leaf, and its inclusion proof in the latest checkpoint, checked as the page is drawn."""
    verifier = log.log_signer(_settings(request)).verifier()
    found = evidence.event_evidence(db, event_id, verifier=verifier)
    context = {
        "title": f"Audit event {event_id}",
        "e": found,
        "leaf_text": found.leaf.decode("utf-8"),
        "proof": [b64(digest) for digest in found.proof],
    }
    return render(request, "audit/event.html", context, actor=actor)


@router.get("/audit/events/{event_id}/proof")
def event_proof_file(
    event_id: BigRecordId, db: Db, actor: Actor = Require(Permission.AUDIT_EVENT_READ)
) -> Response:
    """The event's C2SP tlog-proof file, to keep with a court bundle or give to a complainant."""
    leaf_index = proofs.leaf_indexes(db, [event_id]).get(event_id)
    if leaf_index is None:
        raise Conflict("This event is not in the log yet; it is added within seconds.")
    _, text = evidence.tlog_proof(db, leaf_index=leaf_index)
    disposition = f'attachment; filename="audit-event-{event_id}.tlog-proof"'
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Content-Disposition": disposition}
    )


@router.get("/audit/checkpoint", response_class=HTMLResponse)
def checkpoint_page(
    request: Request,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.AUDIT_EVENT_READ),
) -> HTMLResponse:
    """The latest signed checkpoint, the key that checks it, and the last verification's outcome."""
    recent, _ = proofs.list_checkpoints(db, limit=10, offset=0)
    context = {
        "title": "Audit log checkpoint",
        "status": evidence.log_status(db),
        "verifier_key": log.verifier_key(_settings(request)),
        "recent": [(checkpoint, b64(checkpoint.root_hash)) for checkpoint in recent],
        "run": verification.latest_verification(db),
        "limit": verification.ON_DEMAND_LIMIT,
        "notice": notice,
    }
    return render(request, "audit/checkpoint.html", context, actor=actor)


@router.post("/audit/verify", dependencies=[Depends(check_csrf)])
def verify_now(
    request: Request, factory: SessionFactory, actor: Actor = Require(Permission.AUDIT_EVENT_READ)
) -> Response:
    """Run the independent verifier now (for logs small enough to check while the browser waits)."""
    settings = _settings(request)
    verifier = log.log_signer(settings).verifier()
    report = verification.verify_on_demand(factory, settings, actor=actor, verifier=verifier)
    return RedirectResponse(f"/audit/checkpoint?notice={quote_plus(report.summary()[:300])}", status_code=303)


def _alerts_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    limit: int = 50,
    offset: int = 0,
    state: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    alerts_found, total = misuse.list_alerts(db, limit=limit, offset=offset, state=state)
    context = {
        "title": "Misuse alerts",
        "alerts": alerts_found,
        "total": total,
        "limit": limit,
        "offset": offset,
        "state": state,
        "states": misuse.ALERT_STATES,
        "rules": thresholds.list_settings(db, running_rules(request)),
        "query_for": query_builder(request),
        "notice": notice,
        "error": error,
    }
    return render(request, "audit/alerts.html", context, actor=actor, status_code=status_code)


@router.get("/audit/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    db: Db,
    paging: Paging,
    state: Annotated[AlertState | None, Query()] = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.AUDIT_ALERT_READ),
) -> HTMLResponse:
    """Misuse alerts raised for professional standards, newest first, and the rules that raise them
    with their thresholds (editable by professional standards)."""
    return _alerts_page(
        request, db, actor, limit=paging.limit, offset=paging.offset, state=state, notice=notice
    )


@router.post("/audit/alert-rules/{rule}/{parameter}", dependencies=[Depends(check_csrf)])
def set_threshold_from_form(
    request: Request,
    rule: Annotated[str, Path(max_length=80)],
    parameter: Annotated[str, Path(max_length=40)],
    db: Db,
    value: Annotated[int, Form(ge=0, le=10**9)],
    actor: Actor = Require(Permission.AUDIT_ALERT_RULE_WRITE),
) -> Response:
    """Change one threshold of a running rule from the alerts page; audited with the old and new
    value."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _alerts_page(request, db, actor, error=refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        setting = thresholds.set_threshold(
            db, actor, rules=running_rules(request), rule=rule, parameter=parameter, value=value
        )
    notice = f"{rule.replace('_', ' ')}: {parameter.replace('_', ' ')} is now {setting.value} {setting.unit}."
    return RedirectResponse(f"/audit/alerts?notice={quote_plus(notice)}", status_code=303)


def _alert_page(
    request: Request,
    db: Session,
    actor: Actor,
    alert_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    alert = misuse.get_alert(db, alert_id)
    if alert is None:
        raise NotFound("alert")
    context = {
        "title": f"Alert {alert_id}",
        "a": alert,
        "notes": alerts.list_notes(db, alert_id),
        "notice": notice,
        "error": error,
        "form": form or {},
    }
    return render(request, "audit/alert.html", context, actor=actor, status_code=status_code)


@router.get("/audit/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request,
    alert_id: BigRecordId,
    db: Db,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.AUDIT_ALERT_READ),
) -> HTMLResponse:
    """One alert: what raised it, its handling and notes, and the forms to handle it."""
    return _alert_page(request, db, actor, alert_id, notice=notice)


def _handled(alert_id: int, notice: str) -> Response:
    return RedirectResponse(f"/audit/alerts/{alert_id}?notice={quote_plus(notice)}", status_code=303)


@router.post("/audit/alerts/{alert_id}/acknowledge", dependencies=[Depends(check_csrf)])
def acknowledge_alert_from_form(
    request: Request, alert_id: BigRecordId, db: Db, actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE)
) -> Response:
    """Acknowledge an alert from its page."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _alert_page(
            request, db, actor, alert_id, error=refusal.message, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        alerts.acknowledge_alert(db, actor, alert_id)
    return _handled(alert_id, "Acknowledged.")


@router.post("/audit/alerts/{alert_id}/close", dependencies=[Depends(check_csrf)])
def close_alert_from_form(
    request: Request,
    alert_id: BigRecordId,
    db: Db,
    outcome: Annotated[str, Form(max_length=alerts.TEXT_LENGTH)] = "",
    actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE),
) -> Response:
    """Close an alert with its outcome, from its page."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _alert_page(
            request,
            db,
            actor,
            alert_id,
            error=refusal.message,
            form={"outcome": outcome},
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw):
        alerts.close_alert(db, actor, alert_id, outcome=outcome)
    return _handled(alert_id, "Closed.")


@router.post("/audit/alerts/{alert_id}/notes", dependencies=[Depends(check_csrf)])
def add_note_from_form(
    request: Request,
    alert_id: BigRecordId,
    db: Db,
    text: Annotated[str, Form(max_length=alerts.TEXT_LENGTH)] = "",
    actor: Actor = Require(Permission.AUDIT_ALERT_HANDLE),
) -> Response:
    """Add a note to an alert from its page."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _alert_page(
            request,
            db,
            actor,
            alert_id,
            error=refusal.message,
            form={"text": text},
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw):
        alerts.add_note(db, actor, alert_id, text=text)
    return _handled(alert_id, "Note added.")
