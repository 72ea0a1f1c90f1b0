"""The caller's notifications page: newest first, unread marked, each one or all marked read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import NotFound
from openbwv.notifications import service
from openbwv.policy import Actor, Permission, Require
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


def _mailbox(request: Request, db: Session, actor: Actor) -> service.Mailbox:
    mailbox = service.mailbox_for(db, actor, unit_of=getattr(request.app.state, "unit_of_officer", None))
    if mailbox is None:
        raise NotFound("notifications for this caller")
    return mailbox


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, db: Db, actor: Actor = Require(Permission.NOTIFICATIONS_OWN_READ)
) -> HTMLResponse:
    """The caller's notifications, and their unit's if they supervise it."""
    entries = service.list_notifications(db, _mailbox(request, db, actor))
    context = {"title": "Notifications", "entries": entries, "unread": sum(not e.read for e in entries)}
    return render(request, "notifications/list.html", context, actor=actor)


@router.post("/notifications/read", dependencies=[Depends(check_csrf)])
def mark_all_read(
    request: Request, db: Db, actor: Actor = Require(Permission.NOTIFICATIONS_OWN_READ)
) -> Response:
    """Mark all the caller's notifications read."""
    service.mark_read(db, _mailbox(request, db, actor))
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read", dependencies=[Depends(check_csrf)])
def mark_one_read(
    request: Request, notification_id: int, db: Db, actor: Actor = Require(Permission.NOTIFICATIONS_OWN_READ)
) -> Response:
    """Mark one of the caller's notifications read."""
    service.mark_read(db, _mailbox(request, db, actor), notification_id=notification_id)
    return RedirectResponse("/notifications", status_code=303)
