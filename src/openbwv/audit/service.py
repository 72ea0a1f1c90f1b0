"""Recording audit events: in the caller's transaction, or at once in a transaction of their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit.actions import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.inputs import column_length
from openbwv.observability import client_address_var, request_id_var
from openbwv.policy import Actor

TARGET_ID_LENGTH = column_length(AuditEvent.target_id)


@dataclass(frozen=True)
class Target:
    """What an event is about: a kind of record and its id (or a name where there is no record)."""

    kind: str
    id: str


def record(
    db: Session,
    *,
    actor: Actor,
    action: AuditAction,
    target: Target | None = None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it commits or rolls back with the change it describes.

    A target id longer than its column (a refused request to a long path) is cut to fit, and kept
    whole in the details.
    """
    details = dict(details or {})
    if target is not None and len(target.id) > TARGET_ID_LENGTH:
        details["target_id"] = target.id
    event = AuditEvent(
        occurred_at=clock.now(),
        actor_username=actor.username,
        actor_user_id=actor.user_id,
        action=str(action),
        target_type=target.kind if target else None,
        target_id=target.id[:TARGET_ID_LENGTH] if target else None,
        reason=reason,
        details=details,
        client_address=client_address_var.get(),
        request_id=request_id_var.get(),
    )
    db.add(event)
    return event


def record_now(
    factory: sessionmaker[Session],
    *,
    actor: Actor,
    action: AuditAction,
    target: Target | None = None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Write an event in its own transaction, so it survives a request that fails (a refused login)."""
    with transaction(factory) as session:
        record(session, actor=actor, action=action, target=target, reason=reason, details=details)


@dataclass(frozen=True)
class EventFilter:
    actor: str | None = None
    """One username, exactly."""
    actor_prefix: str | None = None
    """The start of a username: ``j.smi`` finds ``j.smith`` and ``j.smithers``."""
    action: str | None = None
    """One action, or a family of them (``footage:*``)."""
    action_words: str | None = None
    """Words every matching action's name holds: ``login failed`` finds ``auth:login:failed``."""
    target_type: str | None = None
    target_id: str | None = None
    reason: str | None = None
    """Words the reason contains, in any case."""
    since: datetime | None = None
    until: datetime | None = None
    seen_by: Actor | None = None
    """Only the events with no person behind them (the system's, a device's) and this actor's own."""


def _words(text: str) -> list[str]:
    return text.lower().replace("_", " ").replace(":", " ").split()


def actions_described_by(words: str) -> list[str]:
    """The actions with a word starting with each of ``words``, in any case: ``fail log`` finds
    ``auth:login:failed``; ``_`` and ``:`` separate words as spaces do."""
    wanted = _words(words)
    return sorted(
        action.value
        for action in AuditAction
        if wanted and all(any(name.startswith(w) for name in _words(action.value)) for w in wanted)
    )


def list_events(db: Session, *, where: EventFilter, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    """Events matching ``where``, newest first, with the total count."""
    query = select(AuditEvent)
    if where.actor:
        query = query.where(AuditEvent.actor_username == where.actor)
    if where.actor_prefix:
        query = query.where(AuditEvent.actor_username.startswith(where.actor_prefix, autoescape=True))
    if where.action_words:
        query = query.where(AuditEvent.action.in_(actions_described_by(where.action_words)))
    if where.action:
        # ``footage:*`` finds a family of actions; anything else is one action.
        if where.action.endswith("*"):
            query = query.where(AuditEvent.action.startswith(where.action[:-1], autoescape=True))
        else:
            query = query.where(AuditEvent.action == where.action)
    if where.target_type:
        query = query.where(AuditEvent.target_type == where.target_type)
    if where.target_id:
        query = query.where(AuditEvent.target_id == where.target_id)
    if where.reason:
        query = query.where(AuditEvent.reason.icontains(where.reason, autoescape=True))
    if where.since:
        query = query.where(AuditEvent.occurred_at >= where.since)
    if where.until:
        query = query.where(AuditEvent.occurred_at < where.until)
    if where.seen_by is not None:
        mine = (
            AuditEvent.actor_user_id == where.seen_by.user_id
            if where.seen_by.user_id is not None
            else false()
        )
        query = query.where(or_(AuditEvent.actor_user_id.is_(None), mine))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def record_refusal(
    factory: sessionmaker[Session], actor: Actor, route: str, details: dict[str, object]
) -> None:
    """Record that ``actor`` was refused ``route`` (``METHOD /path``), in a transaction of its own."""
    record_now(
        factory,
        actor=actor,
        action=AuditAction.AUTHZ_ACCESS_REFUSED,
        target=Target("route", route),
        details=details,
    )
