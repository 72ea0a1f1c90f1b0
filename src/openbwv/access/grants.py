"""Grants of access: a person, a record, a kind of access and a stated reason, until it expires.

Footage playback and live view call ``require_grant`` before they show anything; the grant's holder
states the reason once, and every grant, renewal and ending is in the audit log with it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.access.models import AccessGrant, AccessKind
from openbwv.access.reasons import get_reason, kind_label
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, Forbidden, InvalidInput, NotFound
from openbwv.inputs import column_length, control_character_problem
from openbwv.policy import Actor, Permission, can

RECORD_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
RECORD_KIND_LENGTH = column_length(AccessGrant.record_kind)
RECORD_ID_LENGTH = column_length(AccessGrant.record_id)
# Force incident or crime numbers: letters and digits, with '/' or '-' between parts
# (``20261126-0042``, ``WM/4521/26``).
INCIDENT_PATTERN = re.compile(r"^[A-Z0-9]+(?:[/-][A-Z0-9]+)*$")
INCIDENT_LENGTH = column_length(AccessGrant.incident_number)
NOTE_LENGTH = 500


@dataclass(frozen=True)
class AccessRecord:
    """What a grant opens: a kind of record and its id, as the domain that owns it names them
    (``AccessRecord("camera", "BWV-0001")``, ``AccessRecord("footage", "123")``)."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True)
class GrantDurations:
    """How long a grant lasts unless its holder asks for less, and the most it may last."""

    default: timedelta = timedelta(hours=8)
    maximum: timedelta = timedelta(hours=24)


DEFAULT_DURATIONS = GrantDurations()


@dataclass(frozen=True)
class GrantFilter:
    username: str | None = None
    record_kind: str | None = None
    record_id: str | None = None
    kind: str | None = None
    reason_code: str | None = None
    live_only: bool = False


def grant_state(grant: AccessGrant, now: datetime | None = None) -> str:
    """``live``, ``expired`` or ``ended``."""
    if grant.ended_at is not None:
        return "expired" if grant.end_cause == "expired" else "ended"
    return "live" if grant.expires_at > (now or clock.now()) else "expired"


def _stated(grant: AccessGrant) -> str:
    """The reason as the audit log keeps it: the code, then the incident number and note given."""
    parts = [grant.reason_code]
    if grant.incident_number:
        parts.append(f"incident {grant.incident_number}")
    if grant.note:
        parts.append(grant.note)
    return "; ".join(parts)


def _details(grant: AccessGrant, **extra: object) -> dict[str, object]:
    return {
        "grant": grant.id,
        "holder": grant.username,
        "kind": grant.kind,
        "incident_number": grant.incident_number,
        "expires_at": grant.expires_at.isoformat(),
        **extra,
    }


def _check_record(record: AccessRecord) -> AccessRecord:
    if not (1 <= len(record.kind) <= RECORD_KIND_LENGTH) or not RECORD_KIND_PATTERN.match(record.kind):
        raise InvalidInput(
            "record_kind", f"1 to {RECORD_KIND_LENGTH} lower-case letters, digits or '_' (e.g. footage)"
        )
    record_id = record.id.strip()
    if not (1 <= len(record_id) <= RECORD_ID_LENGTH):
        raise InvalidInput("record_id", f"1 to {RECORD_ID_LENGTH} characters")
    problem = control_character_problem(record_id)
    if problem:
        raise InvalidInput("record_id", problem)
    return AccessRecord(record.kind, record_id)


def _check_kind(kind: str) -> AccessKind:
    if kind not in set(AccessKind):
        known = ", ".join(k.value for k in AccessKind)
        raise InvalidInput("kind", f"unknown kind of access {kind!r}; known kinds: {known}")
    return AccessKind(kind)


def _check_statement(incident_number: str | None, note: str | None) -> tuple[str | None, str | None]:
    incident = (incident_number or "").strip().upper() or None
    text = (note or "").strip() or None
    if incident is None and text is None:
        raise InvalidInput("incident_number", "give an incident number, or a note saying why you need access")
    if incident is not None and (len(incident) > INCIDENT_LENGTH or not INCIDENT_PATTERN.match(incident)):
        raise InvalidInput(
            "incident_number",
            f"up to {INCIDENT_LENGTH} letters and digits, parts joined by '/' or '-' (e.g. 20261126-0042)",
        )
    if text is not None:
        if len(text) > NOTE_LENGTH:
            raise InvalidInput("note", f"must be at most {NOTE_LENGTH} characters")
        problem = control_character_problem(text, free_text=True)
        if problem:
            raise InvalidInput("note", problem)
    return incident, text


def _check_duration(duration: timedelta | None, durations: GrantDurations) -> timedelta:
    if duration is None:
        return min(durations.default, durations.maximum)
    if duration <= timedelta(0) or duration > durations.maximum:
        most = int(durations.maximum.total_seconds() // 60)
        raise InvalidInput("minutes", f"a grant lasts from 1 to {most} minutes")
    return duration


def _check_reason_allows(db: Session, code: str, kind: AccessKind, *, field: str = "reason_code") -> None:
    """Refuse a reason that is unknown, no longer in use, forbids ``kind`` or does not permit it."""
    reason = get_reason(db, code)
    if reason is None:
        raise InvalidInput(field, f"no such reason code {code!r}")
    if not reason.active:
        raise Conflict(f"Reason {code!r} is no longer in use; choose another.", rule="reason_inactive")
    if kind in reason.forbids:
        raise Conflict(f"Reason {code!r} forbids {kind.label}.", rule="reason_forbids_kind")
    if kind not in reason.permits:
        raise Conflict(f"Reason {code!r} does not permit {kind.label}.", rule="reason_does_not_permit_kind")


def check_reason_for(db: Session, code: str, kind: str, *, field: str = "reason") -> None:
    """Refuse, before anything is shown, a reason code that is unknown (``InvalidInput``), or that is
    no longer in use, forbids ``kind`` or does not permit it (``Forbidden`` naming the rule)."""
    access = _check_kind(kind)
    try:
        _check_reason_allows(db, code, access, field=field)
    except Conflict as refusal:
        raise Forbidden(refusal.message, rule=refusal.rule) from None


def _person(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden("Only a signed-in person may state a reason for access.")
    return actor.user_id


def _open(user_id: int, record: AccessRecord, kind: str) -> ColumnElement[bool]:
    return and_(
        AccessGrant.user_id == user_id,
        AccessGrant.record_kind == record.kind,
        AccessGrant.record_id == record.id,
        AccessGrant.kind == kind,
        AccessGrant.ended_at.is_(None),
    )


def _already(grant: AccessGrant | None, record: AccessRecord, kind: AccessKind) -> Conflict:
    until = f" until {grant.expires_at:%Y-%m-%d %H:%M} UTC (grant {grant.id})" if grant else ""
    return Conflict(
        f"You already hold {kind.label} of {record}{until}; renew or end that grant instead.",
        rule="access_already_granted",
    )


def grant_access(
    db: Session,
    actor: Actor,
    *,
    record: AccessRecord,
    kind: str,
    reason_code: str,
    incident_number: str | None = None,
    note: str | None = None,
    duration: timedelta | None = None,
    durations: GrantDurations = DEFAULT_DURATIONS,
    details: Mapping[str, object] | None = None,
) -> AccessGrant:
    """Grant the caller ``kind`` of access to ``record`` for a stated reason: a reason code that is in
    use and permits the kind, and an incident number or a note. One live grant per person, record and
    kind; a grant that ran out is closed as expired and replaced. ``details`` are facts the calling
    domain adds to the audit event (whose camera, which officer it shows)."""
    user_id = _person(actor)
    record = _check_record(record)
    access = _check_kind(kind)
    incident, text = _check_statement(incident_number, note)
    length = _check_duration(duration, durations)
    _check_reason_allows(db, reason_code, access)
    now = clock.now()
    # Locked on PostgreSQL: two requests closing the same expired grant take turns.
    for previous in db.scalars(select(AccessGrant).where(_open(user_id, record, access)).with_for_update()):
        if previous.expires_at > now:
            raise _already(previous, record, access)
        previous.ended_at, previous.end_cause = previous.expires_at, "expired"
    grant = AccessGrant(
        user_id=user_id,
        username=actor.username,
        record_kind=record.kind,
        record_id=record.id,
        kind=access.value,
        reason_code=reason_code,
        incident_number=incident,
        note=text,
        granted_at=now,
        expires_at=now + length,
        renewed_count=0,
    )
    with refusing_duplicates(db, {"uq_access_grant_open": _already(None, record, access)}):
        db.add(grant)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.ACCESS_GRANT_GRANTED,
        target=Target(record.kind, record.id),
        reason=_stated(grant),
        details=_details(grant, **(details or {})),
    )
    return grant


def may_see_all_grants(actor: Actor) -> bool:
    return can(actor, Permission.ACCESS_GRANT_READ) or can(actor, Permission.ACCESS_GRANT_OVERSEE)


def get_grant(db: Session, actor: Actor, grant_id: int) -> AccessGrant | None:
    """One grant: the caller's own, or anyone's for oversight; None when missing or hidden."""
    grant = db.get(AccessGrant, grant_id)
    if grant is None or (grant.user_id != actor.user_id and not may_see_all_grants(actor)):
        return None
    return grant


def grants_by_id(db: Session, grant_ids: Collection[int]) -> dict[int, AccessGrant]:
    """The grants with these ids, whoever holds them, by id (a missing id is left out): for a domain's
    bookkeeping about grants whose ids it keeps, never to show a caller."""
    if not grant_ids:
        return {}
    return {
        grant.id: grant
        for grant in db.scalars(select(AccessGrant).where(AccessGrant.id.in_(sorted(grant_ids))))
    }


def _grant_to_change(db: Session, actor: Actor, grant_id: int) -> AccessGrant:
    grant = get_grant(db, actor, grant_id)
    if grant is None:
        raise NotFound("grant")
    # Locked on PostgreSQL: a renewal and an ending of the same grant take turns. The refresh would
    # discard a change to it not yet flushed (an earlier renewal in the same transaction).
    db.flush()
    db.refresh(grant, with_for_update=True)
    state = grant_state(grant)
    if state == "ended":
        raise Conflict(
            f"Grant {grant.id} was ended at {grant.ended_at:%Y-%m-%d %H:%M} UTC.", rule="grant_ended"
        )
    if state == "expired":
        raise Conflict(
            f"Grant {grant.id} expired at {grant.expires_at:%Y-%m-%d %H:%M} UTC; state a reason again.",
            rule="grant_expired",
        )
    return grant


def renew_grant(
    db: Session,
    actor: Actor,
    *,
    grant_id: int,
    duration: timedelta | None = None,
    durations: GrantDurations = DEFAULT_DURATIONS,
    details: Mapping[str, object] | None = None,
) -> AccessGrant:
    """Extend the caller's live grant to ``duration`` from now, under the same stated reason; the
    reason must still be in use and permit the kind. ``details`` join the audit event."""
    grant = _grant_to_change(db, actor, grant_id)
    if grant.user_id != actor.user_id:
        raise Forbidden("Only the holder may renew a grant of access.")
    length = _check_duration(duration, durations)
    _check_reason_allows(db, grant.reason_code, AccessKind(grant.kind))
    previous = grant.expires_at
    grant.expires_at = clock.now() + length
    grant.renewed_count += 1
    audit.record(
        db,
        actor=actor,
        action=AuditAction.ACCESS_GRANT_RENEWED,
        target=Target(grant.record_kind, grant.record_id),
        reason=_stated(grant),
        details=_details(
            grant,
            **(details or {}),
            previous_expires_at=previous.isoformat(),
            renewed_count=grant.renewed_count,
        ),
    )
    return grant


def end_grant(
    db: Session, actor: Actor, *, grant_id: int, details: Mapping[str, object] | None = None
) -> AccessGrant:
    """End a live grant now: the holder's own, or anyone's for professional standards. ``details``
    join the audit event."""
    grant = _grant_to_change(db, actor, grant_id)
    if grant.user_id != actor.user_id and not can(actor, Permission.ACCESS_GRANT_OVERSEE):
        raise Forbidden("Only the holder, or professional standards, may end a grant of access.")
    grant.ended_at, grant.ended_by, grant.end_cause = clock.now(), actor.username, "ended"
    audit.record(
        db,
        actor=actor,
        action=AuditAction.ACCESS_GRANT_ENDED,
        target=Target(grant.record_kind, grant.record_id),
        reason=_stated(grant),
        details=_details(grant, **(details or {}), ended_by=actor.username),
    )
    return grant


def active_grant(db: Session, actor: Actor, *, record: AccessRecord, kind: str) -> AccessGrant | None:
    """The caller's live grant of ``kind`` of access to ``record``, or None."""
    if actor.user_id is None:
        return None
    return db.scalar(
        select(AccessGrant).where(_open(actor.user_id, record, kind), AccessGrant.expires_at > clock.now())
    )


def require_grant(db: Session, actor: Actor, *, record: AccessRecord, kind: str) -> AccessGrant:
    """The caller's live grant of ``kind`` of access to ``record``; without one, 403 asking for a
    reason. Footage playback and live view call this before they show anything."""
    grant = active_grant(db, actor, record=record, kind=kind)
    if grant is None:
        raise Forbidden(
            f"State a reason for access first: you hold no live grant for {kind_label(kind)} of {record}."
        )
    return grant


def live_grantees(db: Session, *, record: AccessRecord, kind: str) -> dict[int, str]:
    """Who holds a live grant of ``kind`` of access to ``record``: each holder's user id, with the
    reason code their grant names."""
    rows = db.execute(
        select(AccessGrant.user_id, AccessGrant.reason_code).where(
            AccessGrant.record_kind == record.kind,
            AccessGrant.record_id == record.id,
            AccessGrant.kind == kind,
            AccessGrant.ended_at.is_(None),
            AccessGrant.expires_at > clock.now(),
        )
    )
    return {user_id: reason for user_id, reason in rows}


def granted_record_ids(
    *, record_kind: str, kind: str, user_ids: Collection[int], reason_codes: Collection[str] | None = None
) -> Select[str]:
    """The ids of the records of ``record_kind`` to which one of ``user_ids`` holds a live grant of
    ``kind`` (under one of ``reason_codes``, if given): for a domain's record scope in SQL."""
    query = select(AccessGrant.record_id).where(
        AccessGrant.record_kind == record_kind,
        AccessGrant.kind == kind,
        AccessGrant.user_id.in_(sorted(user_ids)),
        AccessGrant.ended_at.is_(None),
        AccessGrant.expires_at > clock.now(),
    )
    if reason_codes is not None:
        query = query.where(AccessGrant.reason_code.in_(sorted(reason_codes)))
    return query


def _filtered(where: GrantFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = [true()]
    if where.username:
        clauses.append(AccessGrant.username == where.username)
    if where.record_kind:
        clauses.append(AccessGrant.record_kind == where.record_kind)
    if where.record_id:
        clauses.append(AccessGrant.record_id == where.record_id)
    if where.kind:
        clauses.append(AccessGrant.kind == where.kind)
    if where.reason_code:
        clauses.append(AccessGrant.reason_code == where.reason_code)
    if where.live_only:
        clauses.append(AccessGrant.ended_at.is_(None))
        clauses.append(AccessGrant.expires_at > clock.now())
    return and_(*clauses)


def _page(
    db: Session, condition: ColumnElement[bool], limit: int, offset: int
) -> tuple[list[AccessGrant], int]:
    total = db.scalar(select(func.count()).select_from(AccessGrant).where(condition)) or 0
    rows = db.scalars(
        select(AccessGrant)
        .where(condition)
        .order_by(AccessGrant.granted_at.desc(), AccessGrant.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total)


def list_own_grants(
    db: Session, actor: Actor, *, live_only: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[AccessGrant], int]:
    """The caller's grants, newest first, with the total."""
    if actor.user_id is None:
        return [], 0
    where = _filtered(GrantFilter(live_only=live_only))
    return _page(db, and_(AccessGrant.user_id == actor.user_id, where), limit, offset)


def list_grants(
    db: Session, *, where: GrantFilter, limit: int = 50, offset: int = 0
) -> tuple[list[AccessGrant], int]:
    """Everyone's grants matching ``where``, newest first, with the total: for oversight."""
    return _page(db, _filtered(where), limit, offset)
