"""The home page: what each role looks after, with headline figures from the domains."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from openbwv import clock, people
from openbwv.dashboard import service
from openbwv.db import Db
from openbwv.policy import ROLE_DESCRIPTIONS, Actor, Permission, Require
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, db: Db, actor: Actor = Require(Permission.SELF_READ)) -> HTMLResponse:
    """The home page: a section for each of this user's roles, with headline figures."""
    today = clock.today()
    account = people.get_account(db, actor.username)
    officer = people.get_officer_by_id(db, actor.officer_id) if actor.officer_id else None
    context = {
        "title": "Home",
        "display_name": account.display_name if account else actor.username,
        "roles": [(role, ROLE_DESCRIPTIONS[role]) for role in sorted(actor.roles)],
        "home": service.gather_home(db, actor, today=today),
        "officer": officer,
        "today": today,
    }
    return render(request, "dashboard.html", context, actor=actor)
