from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import NotFound, OpenbwvError
from openbwv.paging import Paging
from openbwv.people import service
from openbwv.people.api import user_out
from openbwv.policy import ROLE_DESCRIPTIONS, Actor, Permission, Require, Role
from openbwv.web.forms import redrawing_on_refusal, said
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
        return _new_user_form(request, actor, form, said(refusal), status_code=refusal.status_code)

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


def _edit_user_page(
    request: Request,
    db: Db,
    actor: Actor,
    username: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    chosen_roles: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = service.get_account(db, username)
    if user is None:
        raise NotFound("user")
    shown = user_out(user, service.collar_numbers_for(db, [user.officer_id]))
    context = {
        "title": user.username,
        "user": shown,
        "roles": [(role, ROLE_DESCRIPTIONS[role]) for role in sorted(Role)],
        # After a refused save, the boxes as the admin ticked them, not as stored.
        "chosen_roles": shown.roles if chosen_roles is None else chosen_roles,
        "notice": notice,
        "error": error,
        "is_self": user.id == actor.user_id,
    }
    return render(request, "people/user_edit.html", context, actor=actor, status_code=status_code)


def _redraw_edit(
    request: Request, db: Db, actor: Actor, username: str, chosen_roles: list[str] | None = None
) -> Callable[[OpenbwvError], Response]:
    def redraw(refusal: OpenbwvError) -> Response:
        return _edit_user_page(
            request,
            db,
            actor,
            username,
            error=said(refusal),
            chosen_roles=chosen_roles,
            status_code=refusal.status_code,
        )

    return redraw


def _saved(username: str, notice: str) -> Response:
    return RedirectResponse(f"/users/{username}?notice={quote_plus(notice)}", status_code=303)


@router.get("/users/{username}", response_class=HTMLResponse)
def edit_user_page(
    request: Request,
    username: str,
    db: Db,
    notice: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> HTMLResponse:
    """One account: change its roles, set a temporary password, disable or re-enable it."""
    return _edit_user_page(request, db, actor, username, notice=notice)


@router.post("/users/{username}/roles", dependencies=[Depends(check_csrf)])
def set_roles_from_form(
    request: Request,
    username: str,
    db: Db,
    roles: Annotated[list[str] | None, Form(max_length=len(Role))] = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> Response:
    """Replace a user's roles from their account page."""
    with redrawing_on_refusal(db, _redraw_edit(request, db, actor, username, roles or [])):
        user = service.set_account_roles(db, actor, username=username, roles=roles or [])
    return _saved(user.username, "Roles saved.")


@router.post("/users/{username}/disable", dependencies=[Depends(check_csrf)])
def disable_from_form(
    request: Request, username: str, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> Response:
    """Disable an account from its page."""
    with redrawing_on_refusal(db, _redraw_edit(request, db, actor, username)):
        user = service.disable_account(db, actor, username=username)
    return _saved(user.username, "Account disabled.")


@router.post("/users/{username}/enable", dependencies=[Depends(check_csrf)])
def enable_from_form(
    request: Request, username: str, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> Response:
    """Re-enable a disabled account from its page."""
    with redrawing_on_refusal(db, _redraw_edit(request, db, actor, username)):
        user = service.enable_account(db, actor, username=username)
    return _saved(user.username, "Account enabled: it can sign in again.")


@router.post("/users/{username}/temporary-password", dependencies=[Depends(check_csrf)])
def set_temporary_password_from_form(
    request: Request,
    username: str,
    db: Db,
    password: Annotated[str, Form(max_length=1024)],
    actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE),
) -> Response:
    """Set a temporary password the user must change at their next sign-in."""
    with redrawing_on_refusal(db, _redraw_edit(request, db, actor, username)):
        user = service.set_temporary_password(db, actor, username=username, password=password)
    return _saved(user.username, "Temporary password set: the user must change it when they next sign in.")
