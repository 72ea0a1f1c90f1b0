"""``/api/v1/access``: the force's reason codes, and grants of access made under them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from openbwv.access import grants, reasons
from openbwv.access.models import AccessGrant, AccessKind, AccessReason
from openbwv.access.schemas import GrantIn, GrantOut, ReasonIn, ReasonOut, ReasonUpdate, RenewIn
from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require

router = APIRouter(prefix="/api/v1/access", tags=["access"], responses=API_ERRORS)


def grant_durations(request: Request) -> grants.GrantDurations:
    """The force's grant lengths, from its settings."""
    settings = request.app.state.settings
    return grants.GrantDurations(
        default=timedelta(minutes=settings.access_grant_minutes),
        maximum=timedelta(minutes=settings.access_grant_max_minutes),
    )


Durations = Annotated[grants.GrantDurations, Depends(grant_durations)]


def reason_out(reason: AccessReason) -> ReasonOut:
    return ReasonOut(
        code=reason.code,
        label=reason.label,
        description=reason.description,
        permits=reason.permits,
        forbids=reason.forbids,
        active=reason.active,
    )


def grant_out(grant: AccessGrant) -> GrantOut:
    return GrantOut(
        id=grant.id,
        username=grant.username,
        record_kind=grant.record_kind,
        record_id=grant.record_id,
        kind=grant.kind,
        reason_code=grant.reason_code,
        incident_number=grant.incident_number,
        note=grant.note,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        renewed_count=grant.renewed_count,
        ended_at=grant.ended_at,
        ended_by=grant.ended_by,
        state=grants.grant_state(grant),
    )


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


@router.get("/reasons", response_model=list[ReasonOut])
def list_reasons(
    db: Db,
    include_inactive: Annotated[bool, Query(description="Also the deactivated ones.")] = False,
    actor: Actor = Require(Permission.ACCESS_REASON_READ),
) -> list[ReasonOut]:
    """The force's reason codes and the kinds of access each permits and forbids."""
    return [reason_out(r) for r in reasons.list_reasons(db, include_inactive=include_inactive)]


@router.post("/reasons", response_model=ReasonOut, status_code=201)
def create_reason(
    body: ReasonIn, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)
) -> ReasonOut:
    """Add a reason code; it may not both permit and forbid a kind of access."""
    return reason_out(reasons.create_reason(db, actor, **body.model_dump()))


@router.patch("/reasons/{code}", response_model=ReasonOut)
def update_reason(
    code: str, body: ReasonUpdate, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)
) -> ReasonOut:
    """Change a reason's label, description, or the kinds it permits and forbids; its code stays."""
    return reason_out(reasons.update_reason(db, actor, code=code, **body.model_dump(exclude_none=True)))


@router.post("/reasons/{code}/deactivate", response_model=ReasonOut)
def deactivate_reason(code: str, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)) -> ReasonOut:
    """Stop new grants and renewals naming a reason; grants made under it keep it."""
    return reason_out(reasons.set_reason_active(db, actor, code=code, active=False))


@router.post("/reasons/{code}/activate", response_model=ReasonOut)
def activate_reason(code: str, db: Db, actor: Actor = Require(Permission.ACCESS_REASON_WRITE)) -> ReasonOut:
    """Bring a deactivated reason back into use."""
    return reason_out(reasons.set_reason_active(db, actor, code=code, active=True))


@router.post("/grants", response_model=GrantOut, status_code=201)
def grant_access(
    body: GrantIn, db: Db, durations: Durations, actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST)
) -> GrantOut:
    """State a reason for one kind of access to one record; the grant lasts until it expires or is ended."""
    grant = grants.grant_access(
        db,
        actor,
        record=grants.AccessRecord(body.record_kind, body.record_id),
        kind=body.kind,
        reason_code=body.reason_code,
        incident_number=body.incident_number,
        note=body.note,
        duration=_minutes(body.minutes),
        durations=durations,
    )
    return grant_out(grant)


@router.get("/grants", response_model=Page[GrantOut])
def list_own_grants(
    db: Db,
    paging: Paging,
    live: Annotated[bool, Query(description="Only grants that still count.")] = False,
    actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST),
) -> Page[GrantOut]:
    """The caller's grants, newest first."""
    rows, total = grants.list_own_grants(db, actor, live_only=live, limit=paging.limit, offset=paging.offset)
    return Page(items=[grant_out(g) for g in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/grants/all", response_model=Page[GrantOut])
def list_all_grants(
    db: Db,
    paging: Paging,
    username: Annotated[str | None, Query(max_length=150)] = None,
    record_kind: Annotated[str | None, Query(max_length=grants.RECORD_KIND_LENGTH)] = None,
    record_id: Annotated[str | None, Query(max_length=grants.RECORD_ID_LENGTH)] = None,
    kind: AccessKind | None = None,
    reason_code: Annotated[str | None, Query(max_length=reasons.CODE_LENGTH)] = None,
    live: Annotated[bool, Query(description="Only grants that still count.")] = False,
    actor: Actor = Require(Permission.ACCESS_GRANT_READ),
) -> Page[GrantOut]:
    """Everyone's grants, newest first, for oversight: by holder, record, kind and reason."""
    where = grants.GrantFilter(
        username=username,
        record_kind=record_kind,
        record_id=record_id,
        kind=kind,
        reason_code=reason_code,
        live_only=live,
    )
    rows, total = grants.list_grants(db, where=where, limit=paging.limit, offset=paging.offset)
    return Page(items=[grant_out(g) for g in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/grants/{grant_id}", response_model=GrantOut)
def get_grant(
    grant_id: RecordId, db: Db, actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST)
) -> GrantOut:
    """One of the caller's grants (anyone's, for oversight)."""
    grant = grants.get_grant(db, actor, grant_id)
    if grant is None:
        raise NotFound("grant")
    return grant_out(grant)


@router.post("/grants/{grant_id}/renew", response_model=GrantOut)
def renew_grant(
    grant_id: RecordId,
    db: Db,
    durations: Durations,
    body: RenewIn | None = None,
    actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST),
) -> GrantOut:
    """Extend the caller's live grant from now, under the same reason."""
    minutes = body.minutes if body else None
    grant = grants.renew_grant(db, actor, grant_id=grant_id, duration=_minutes(minutes), durations=durations)
    return grant_out(grant)


@router.post("/grants/{grant_id}/end", response_model=GrantOut)
def end_grant(
    grant_id: RecordId, db: Db, actor: Actor = Require(Permission.ACCESS_GRANT_REQUEST)
) -> GrantOut:
    """End a live grant now: the caller's own, or anyone's for professional standards."""
    return grant_out(grants.end_grant(db, actor, grant_id=grant_id))
