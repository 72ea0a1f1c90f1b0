from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from openbwv import auth
from openbwv.auth import UserAccount
from openbwv.db import Db, SessionFactory
from openbwv.errors import API_ERRORS, NotFound, error_responses
from openbwv.observability import client_address
from openbwv.paging import Page, Paging
from openbwv.people import service
from openbwv.people.models import Officer
from openbwv.people.schemas import (
    LeaverIn,
    MeOut,
    OfficerIn,
    OfficerOut,
    PasswordChangeIn,
    RankOut,
    RolesIn,
    TemporaryPasswordIn,
    UnitIn,
    UnitOut,
    UserCreateIn,
    UserOut,
)
from openbwv.policy import Actor, Permission, Require, Role

router = APIRouter(prefix="/api/v1", tags=["people"], responses=API_ERRORS)


def officer_out(officer: Officer) -> OfficerOut:
    return OfficerOut(
        collar_number=officer.collar_number,
        name=officer.name,
        rank=officer.rank_code,
        rank_name=officer.rank.name,
        unit=officer.unit.code,
        unit_name=officer.unit.name,
        is_active=officer.is_active,
        left_on=officer.left_on,
    )


def user_out(user: UserAccount, collars: dict[int, str]) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(r.role for r in user.roles),
        collar_number=collars.get(user.officer_id) if user.officer_id else None,
        organisation=user.organisation,
        is_active=user.is_active,
        must_change_password=user.must_change_password,
    )


@router.get("/me", response_model=MeOut)
def get_me(db: Db, actor: Actor = Require(Permission.SELF_READ, before_password_change=True)) -> MeOut:
    """The caller's username, roles, permissions and linked officer."""
    officer = service.get_officer_by_id(db, actor.officer_id) if actor.officer_id else None
    account = service.get_account(db, actor.username)
    return MeOut(
        username=actor.username,
        display_name=account.display_name if account else actor.username,
        roles=sorted(actor.roles),
        permissions=sorted(actor.permissions),
        officer=officer_out(officer) if officer else None,
        must_change_password=actor.must_change_password,
    )


@router.post("/me/password", status_code=204, responses=error_responses(429))
def change_my_password(
    request: Request,
    body: PasswordChangeIn,
    factory: SessionFactory,
    actor: Actor = Require(Permission.SELF_PASSWORD_WRITE, before_password_change=True),
) -> None:
    """Change the caller's own password, giving the current one; a temporary password must be changed
    this way before any other route answers."""
    auth.change_password(
        factory,
        actor,
        current_password=body.current_password,
        new_password=body.new_password,
        address=client_address(request),
        policy=request.app.state.login_policy,
    )


@router.get("/ranks", response_model=list[RankOut])
def list_ranks(db: Db, actor: Actor = Require(Permission.PEOPLE_OFFICER_READ)) -> list[RankOut]:
    """Ranks and staff grades, junior first."""
    return [RankOut.model_validate(r) for r in service.list_ranks(db)]


@router.get("/units", response_model=list[UnitOut])
def list_units(db: Db, actor: Actor = Require(Permission.PEOPLE_UNIT_READ)) -> list[UnitOut]:
    """Every unit of the force."""
    return [UnitOut.model_validate(u) for u in service.list_units(db)]


@router.post("/units", response_model=UnitOut, status_code=201)
def create_unit(body: UnitIn, db: Db, actor: Actor = Require(Permission.PEOPLE_UNIT_WRITE)) -> UnitOut:
    """Create a unit."""
    unit = service.create_unit(
        db, actor, code=body.code, name=body.name, kind=body.kind, station=body.station
    )
    return UnitOut.model_validate(unit)


@router.get("/officers", response_model=Page[OfficerOut])
def list_officers(
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100, description="Name or collar number fragment.")] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    rank: Annotated[str | None, Query(max_length=40)] = None,
    active: bool | None = None,
    actor: Actor = Require(Permission.SELF_READ),
) -> Page[OfficerOut]:
    """Officers, searchable and filtered by unit, rank and status: the whole force for staff who read
    officers, and for anyone else only the records policy lets them read (an officer's own)."""
    where = service.OfficerFilter(search=q, unit=unit, rank=rank, active=active)
    rows, total = service.list_officers_for(db, actor, where=where, limit=paging.limit, offset=paging.offset)
    return Page(items=[officer_out(o) for o in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/officers", response_model=OfficerOut, status_code=201)
def create_officer(
    body: OfficerIn, db: Db, actor: Actor = Require(Permission.PEOPLE_OFFICER_WRITE)
) -> OfficerOut:
    """Create an officer."""
    officer = service.create_officer(
        db, actor, collar_number=body.collar_number, name=body.name, rank=body.rank, unit=body.unit
    )
    return officer_out(officer)


@router.get("/officers/{collar_number}", response_model=OfficerOut)
def get_officer(collar_number: str, db: Db, actor: Actor = Require(Permission.SELF_READ)) -> OfficerOut:
    """One officer by collar number (staff who read officers, or the officer themselves)."""
    officer = service.get_officer_for(db, actor, collar_number)
    if officer is None:
        raise NotFound("officer")
    return officer_out(officer)


@router.post("/officers/{collar_number}/leaver", response_model=OfficerOut)
def mark_leaver(
    collar_number: str, body: LeaverIn, db: Db, actor: Actor = Require(Permission.PEOPLE_OFFICER_WRITE)
) -> OfficerOut:
    """Record that an officer has left the force."""
    return officer_out(service.mark_leaver(db, actor, collar_number=collar_number, left_on=body.left_on))


@router.get("/users", response_model=Page[UserOut])
def list_users(
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Role | None = None,
    actor: Actor = Require(Permission.USERS_ACCOUNT_READ),
) -> Page[UserOut]:
    """User accounts, paged."""
    rows, total = service.list_accounts(db, search=q, role=role, limit=paging.limit, offset=paging.offset)
    collars = service.collar_numbers_for(db, (u.officer_id for u in rows))
    return Page(
        items=[user_out(u, collars) for u in rows], total=total, limit=paging.limit, offset=paging.offset
    )


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserCreateIn, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> UserOut:
    """Create a user account with roles, linked to an officer or an outside organisation."""
    user = service.create_account(
        db,
        actor,
        username=body.username,
        password=body.password,
        roles=body.roles,
        display_name=body.display_name,
        collar_number=body.collar_number,
        organisation=body.organisation,
    )
    return user_out(user, service.collar_numbers_for(db, [user.officer_id]))


@router.put("/users/{username}/roles", response_model=UserOut)
def set_user_roles(
    username: str, body: RolesIn, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> UserOut:
    """Replace a user's roles."""
    user = service.set_account_roles(db, actor, username=username, roles=body.roles)
    return user_out(user, service.collar_numbers_for(db, [user.officer_id]))


@router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: str, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)) -> UserOut:
    """Disable an account: it can no longer sign in and its tokens stop working."""
    user = service.disable_account(db, actor, username=username)
    return user_out(user, service.collar_numbers_for(db, [user.officer_id]))


@router.post("/users/{username}/enable", response_model=UserOut)
def enable_user(username: str, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)) -> UserOut:
    """Re-enable a disabled account: it can sign in again with the roles it had."""
    user = service.enable_account(db, actor, username=username)
    return user_out(user, service.collar_numbers_for(db, [user.officer_id]))


@router.post("/users/{username}/temporary-password", response_model=UserOut)
def set_temporary_password(
    username: str, body: TemporaryPasswordIn, db: Db, actor: Actor = Require(Permission.USERS_ACCOUNT_WRITE)
) -> UserOut:
    """Set a temporary password the user must change at their next sign-in; their sessions end."""
    user = service.set_temporary_password(db, actor, username=username, password=body.password)
    return user_out(user, service.collar_numbers_for(db, [user.officer_id]))
