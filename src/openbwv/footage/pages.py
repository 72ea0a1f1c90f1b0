"""Footage pages: the arrivals list, where evidence managers see clips come in from the docks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from openbwv.db import Db
from openbwv.footage import service
from openbwv.policy import Actor, Permission, Require
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/footage/arrivals", response_class=HTMLResponse)
def arrivals_page(
    request: Request, db: Db, actor: Actor = Require(Permission.FOOTAGE_ARRIVALS_READ)
) -> HTMLResponse:
    """The clips most recently received, newest first: metadata only; each view is audited."""
    views = service.list_arrivals(db, actor)
    return render(request, "footage/arrivals.html", {"title": "Arrivals", "views": views}, actor=actor)
