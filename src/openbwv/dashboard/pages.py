"""The home page: what each role looks after, with headline figures from the domains."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from openbwv import clock, fleet, people
from openbwv.db import Db
from openbwv.policy import ROLE_DESCRIPTIONS, Actor, Permission, Require, can
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, db: Db, actor: Actor = Require(Permission.SELF_READ)) -> HTMLResponse:
    """The home page: what this user's roles let them see, with headline figures."""
    cards: list[dict[str, Any]] = []
    if can(actor, Permission.PEOPLE_OFFICER_READ):
        _, active = people.list_officers(db, where=people.OfficerFilter(active=True), limit=1, offset=0)
        cards.append({"figure": active, "label": "Serving officers", "href": "/officers"})
        cards.append({"figure": len(people.list_units(db)), "label": "Units", "href": None})
    if can(actor, Permission.FLEET_DEVICE_READ):
        _, issued = fleet.list_devices(
            db, where=fleet.DeviceFilter(kind="camera", state="issued"), limit=1, offset=0
        )
        _, pooled = fleet.list_devices(
            db, where=fleet.DeviceFilter(kind="camera", state="pooled"), limit=1, offset=0
        )
        overdue = len(fleet.list_open_issues(db, overdue_only=True))
        cards.append(
            {"figure": issued, "label": "Cameras issued", "href": "/fleet/devices?kind=camera&state=issued"}
        )
        cards.append(
            {
                "figure": pooled,
                "label": "Pooled cameras free",
                "href": "/fleet/devices?kind=camera&state=pooled",
            }
        )
        cards.append({"figure": overdue, "label": "Overdue returns", "href": "/fleet/counter"})
    if can(actor, Permission.TRAINING_RECORD_READ):
        exceptions = fleet.find_authority_exceptions(db, today=clock.today())
        cards.append(
            {
                "figure": len(exceptions.lapsing),
                "label": "Taser authorities lapsing in 30 days",
                "href": "/training/expiry",
            }
        )
        cards.append(
            {
                "figure": len(exceptions.lapsed_with_taser),
                "label": "Lapsed authorities with a Taser still out",
                "href": "/training/expiry",
            }
        )
        cards.append(
            {
                "figure": len(exceptions.ineligible_with_taser),
                "label": "Not eligible under the STRA, Taser still out",
                "href": "/training/expiry",
            }
        )
    if actor.officer_id is not None:
        held = fleet.officer_kit(db, actor.officer_id)
        cards.append({"figure": len(held), "label": "Devices you hold", "href": "/kit"})
    if can(actor, Permission.USERS_ACCOUNT_READ):
        _, users = people.list_accounts(db, search=None, role=None, limit=1, offset=0)
        cards.append({"figure": users, "label": "User accounts", "href": "/users"})
    account = people.get_account(db, actor.username)
    officer = people.get_officer_by_id(db, actor.officer_id) if actor.officer_id else None
    return render(
        request,
        "dashboard.html",
        {
            "title": "Home",
            "display_name": account.display_name if account else actor.username,
            "roles": [(role, ROLE_DESCRIPTIONS[role]) for role in sorted(actor.roles)],
            "cards": cards,
            "officer": officer,
        },
        actor=actor,
    )
