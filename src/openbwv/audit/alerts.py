"""Professional standards handle misuse alerts: acknowledge one, add notes, close it with an outcome.

An alert goes ``open`` → ``acknowledged`` → ``closed`` (closing an open alert straight away is
allowed: a clear false positive needs no acknowledgement first). Notes are only ever added. Each
step is an audit event targeting the alert, in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.audit.actions import AuditAction
from openbwv.audit.misuse import Alert, get_alert
from openbwv.audit.models import AuditAlert, AuditAlertNote
from openbwv.audit.service import Target, record
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.inputs import control_character_problem
from openbwv.policy import Actor

TEXT_LENGTH = 2000


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    written_at: datetime
    text: str


def _text(field: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(field, "must not be empty")
    if len(text) > TEXT_LENGTH:
        raise InvalidInput(field, f"must be at most {TEXT_LENGTH} characters")
    problem = control_character_problem(text, free_text=True)
    if problem:
        raise InvalidInput(field, problem)
    return text


def _locked(db: Session, alert_id: int) -> tuple[Alert, AuditAlert]:
    """The alert and its handling row, locked on PostgreSQL so that two changes take turns."""
    alert = get_alert(db, alert_id, for_update=True)
    handling = db.get(AuditAlert, alert_id)
    if alert is None or handling is None:
        raise NotFound("alert")
    return alert, handling


def _refuse_closed(alert: Alert) -> None:
    if alert.state == "closed":
        raise Conflict(
            f"Alert {alert.event_id} ({alert.rule}) was closed by {alert.closed_by}.", rule="alert_closed"
        )


def _record(db: Session, actor: Actor, action: AuditAction, alert: Alert, **details: object) -> None:
    record(
        db,
        actor=actor,
        action=action,
        target=Target("alert", str(alert.event_id)),
        details={"rule": alert.rule, "subject": alert.subject, **details},
    )


def acknowledge_alert(db: Session, actor: Actor, alert_id: int) -> Alert:
    """Take an open alert on: it is being looked into. An acknowledged or closed one is a conflict."""
    alert, handling = _locked(db, alert_id)
    _refuse_closed(alert)
    if alert.state == "acknowledged":
        raise Conflict(
            f"Alert {alert.event_id} ({alert.rule}) was acknowledged by {alert.acknowledged_by}.",
            rule="alert_acknowledged",
        )
    handling.state, handling.acknowledged_by, handling.acknowledged_at = (
        "acknowledged",
        actor.username,
        clock.now(),
    )
    _record(db, actor, AuditAction.AUDIT_ALERT_ACKNOWLEDGED, alert, state="acknowledged")
    db.flush()
    return _locked(db, alert_id)[0]


def close_alert(db: Session, actor: Actor, alert_id: int, *, outcome: str) -> Alert:
    """Close an alert with its outcome (what was found, what was done); closing it again is a conflict."""
    text = _text("outcome", outcome)
    alert, handling = _locked(db, alert_id)
    _refuse_closed(alert)
    handling.state, handling.closed_by, handling.closed_at = "closed", actor.username, clock.now()
    handling.outcome = text
    _record(db, actor, AuditAction.AUDIT_ALERT_CLOSED, alert, state="closed", outcome=text, was=alert.state)
    db.flush()
    return _locked(db, alert_id)[0]


def add_note(db: Session, actor: Actor, alert_id: int, *, text: str) -> Note:
    """Add a note to an alert, in any state; notes are never changed or removed."""
    body = _text("text", text)
    alert, _ = _locked(db, alert_id)
    note = AuditAlertNote(
        alert_event_id=alert.event_id, author=actor.username, written_at=clock.now(), text=body
    )
    db.add(note)
    db.flush()
    _record(db, actor, AuditAction.AUDIT_ALERT_NOTED, alert, note=note.id, text=body)
    return Note(note.id, note.author, note.written_at, note.text)


def list_notes(db: Session, alert_id: int) -> list[Note]:
    """An alert's notes, oldest first."""
    rows = db.scalars(
        select(AuditAlertNote).where(AuditAlertNote.alert_event_id == alert_id).order_by(AuditAlertNote.id)
    )
    return [Note(n.id, n.author, n.written_at, n.text) for n in rows]
