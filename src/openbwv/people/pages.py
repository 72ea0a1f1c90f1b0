from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import NotFound, OpenbwvError
from openbwv.paging import Paging
from openbwv.people import service
from openbwv.people.api import user_out
from openbwv.policy import ROLE_DESCRIPTIONS, Actor, Permission, Require, Role
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import query_builder, render

router = APIRouter(include_in_schema=False)


@router.get("/officers", response_class=HTMLResponse)
def officers_page(
    request: Request,
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    rank: Annotated[str | None, Query(max_length=40)] = None,
    actor: Actor = Require(Permission.PEOPLE_OFFICER_READ),
) -> HTMLResponse:
    """Search and page through the force's officers."""
    where = service.OfficerFilter(search=q, unit=unit or None, rank=rank or None)
    rows, total = service.list_officers_for(db, actor, where=where, limit=paging.limit, offset=paging.offset)
    context = {
        "title": "Officers",
        "officers": rows,
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
        "q": q,
        "unit": unit,
        "rank": rank,
        "units": service.list_units(db),
        "ranks": service.list_ranks(db),
        "query_for": query_builder(request),
    }
    return render(request, "people/officers.html", context, actor=actor)


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Annotated[str | None, Query(max_length=40)] = None,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_READ),
) -> HTMLResponse:
    """Search user accounts; admins change roles here."""
    role_filter = Role(role) if role in set(Role) else None
    rows, total = service.list_accounts(
        db, search=q, role=role_filter, limit=paging.limit, offset=paging.offset
    )
    collars = service.collar_numbers_for(db, (u.officer_id for u in rows))
    context = {
        "title": "Users",
        "users": [user_out(u, collars) for u in rows],
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
        "q": q,
        "role": role,
        "notice": notice,
        "all_roles": sorted(Role),
        "query_for": query_builder(request),
    }
    return render(request, "people/users.html", context, actor=actor)


def _new_user_form(
    request: Request, actor: Actor, form: Mapping[str, object], error: str | None, status_code: int = 200
) -> HTMLResponse:
    context = {
        "title": "Create a user",
        "form": form,
        "error": error,
        "roles": [(role, ROLE_DESCRIPTIONS[role]) for role in sorted(Role)],
    }
    return render(request, "people/user_new.html", context, actor=actor, status_code=status_code)


@router.get("/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)) -> HTMLResponse:
    """The form to create a user account."""
    return _new_user_form(request, actor, {}, None)


@router.post("/users/new", dependencies=[Depends(check_csrf)])
def create_user_from_form(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1024)],
    roles: Annotated[list[str] | None, Form(max_length=len(Role))] = None,
    display_name: Annotated[str, Form(max_length=200)] = "",
    collar_number: Annotated[str, Form(max_length=20)] = "",
    organisation: Annotated[str, Form(max_length=200)] = "",
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> Response:
    """Create a user account from the admin form."""
    form = {
        "username": username,
        "display_name": display_name,
        "collar_number": collar_number,
        "organisation": organisation,
        "roles": roles or [],
    }

    def redraw(refusal: OpenbwvError) -> Response:
        return _new_user_form(request, actor, form, refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        user = service.create_account(
            db,
            actor,
            username=username,
            password=password,
            roles=roles or [],
            display_name=display_name or None,
            collar_number=collar_number or None,
            organisation=organisation or None,
        )
    return RedirectResponse(f"/users?q={user.username}&notice=Created+{user.username}", status_code=303)


@router.get("/users/{username}", response_class=HTMLResponse)
def edit_user_page(
    request: Request,
    username: str,
    db: Db,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> HTMLResponse:
    """One account: change its roles or disable it."""
    user = service.get_account(db, username)
    if user is None:
        raise NotFound("user")
    context = {
        "title": user.username,
        "user": user_out(user, service.collar_numbers_for(db, [user.officer_id])),
        "roles": [(role, ROLE_DESCRIPTIONS[role]) for role in sorted(Role)],
        "notice": notice,
    }
    return render(request, "people/user_edit.html", context, actor=actor)


@router.post("/users/{username}/roles", dependencies=[Depends(check_csrf)])
def set_roles_from_form(
    username: str,
    db: Db,
    roles: Annotated[list[str] | None, Form(max_length=len(Role))] = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> Response:
    """Replace a user's roles from their account page."""
    user = service.set_account_roles(db, actor, username=username, roles=roles or [])
    return RedirectResponse(f"/users/{user.username}?notice=Roles+saved.", status_code=303)


@router.post("/users/{username}/disable", dependencies=[Depends(check_csrf)])
def disable_from_form(
    username: str, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> Response:
    """Disable an account from its page."""
    user = service.disable_account(db, actor, username=username)
    return RedirectResponse(f"/users/{user.username}?notice=Account+disabled.", status_code=303)
