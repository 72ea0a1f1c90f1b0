from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv.audit.models import AuditEvent
from openbwv.policy import Actor, Role
from tests.builders import make_user


def make_actor(db: Session, *roles: Role, username: str | None = None) -> Actor:
    """A signed-in person holding ``roles`` (an officer by default), as the app would see them."""
    user = make_user(db, username=username, roles=list(roles) or [Role.OFFICER])
    return Actor(username=user.username, roles=frozenset(roles or (Role.OFFICER,)), user_id=user.id)


def events(db: Session, action: str, *, target_id: str | None = None) -> list[AuditEvent]:
    """The audit events of ``action`` (about ``target_id``, if given), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target_id is not None:
        query = query.where(AuditEvent.target_id == target_id)
    return list(db.scalars(query))
