"""The bell in the page header: the caller's unread count, read outside the request's transaction."""

from __future__ import annotations

from fastapi import Request

from openbwv.db import get_session_factory, reading
from openbwv.notifications.service import mailbox_for, unread_count
from openbwv.policy import Actor, Permission, can


def unread_for(request: Request, actor: Actor | None) -> int | None:
    """The caller's unread count, or None when no bell is shown (anonymous callers, jobs)."""
    if actor is None or actor.user_id is None or not can(actor, Permission.NOTIFICATIONS_OWN_READ):
        return None
    # A read-only session: on SQLite it does not queue behind the request's own write lock.
    with reading(get_session_factory(request)) as db:
        mailbox = mailbox_for(db, actor, unit_of=getattr(request.app.state, "unit_of_officer", None))
        return None if mailbox is None else unread_count(db, mailbox)
