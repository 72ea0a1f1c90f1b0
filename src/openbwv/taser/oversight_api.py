"""Professional standards' side of Taser over JSON: the exceptions to work through and the numbers
the Taser rules read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import exceptions
from openbwv.taser.models import CODE_LENGTH
from openbwv.taser.schemas import ExceptionOut, ExplanationIn, SettingIn, SettingOut
from openbwv.taser.settings import SETTINGS, all_settings, set_setting

router = APIRouter(prefix="/api/v1/taser", tags=["taser"], responses=API_ERRORS)


@router.get("/exceptions", response_model=Page[ExceptionOut])
def list_exceptions(
    db: Db,
    paging: Paging,
    kind: Annotated[
        str | None,
        Query(max_length=CODE_LENGTH, description="no_footage, unreported_trigger or time_mismatch."),
    ] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only those not yet explained.")] = True,
    actor: Actor = Require(Permission.TASER_EXCEPTION_READ),
) -> Page[ExceptionOut]:
    """Exceptions newest first: uses without footage, unreported trigger pulls, times that disagree."""
    rows, total = exceptions.list_exceptions(
        db, kind=kind, open_only=open_only, limit=paging.limit, offset=paging.offset
    )
    return Page(
        items=[ExceptionOut.model_validate(row) for row in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post("/exceptions/{exception_id}/explanation", response_model=ExceptionOut)
def explain_exception(
    exception_id: RecordId,
    body: ExplanationIn,
    db: Db,
    actor: Actor = Require(Permission.TASER_EXCEPTION_EXPLAIN),
) -> ExceptionOut:
    """Record why an exception happened, which closes it: 409 when it was explained already."""
    found = exceptions.explain_exception(
        db, actor, exception_id, explanation=body.explanation, text=body.text
    )
    if found is None:
        raise NotFound("exception")
    return ExceptionOut.model_validate(found)


def _settings_out(values: dict[str, float]) -> list[SettingOut]:
    return [
        SettingOut(
            name=s.name,
            label=s.label,
            unit=s.unit,
            value=values[s.name],
            default=s.default,
            low=s.low,
            high=s.high,
        )
        for s in SETTINGS.values()
    ]


@router.get("/settings", response_model=list[SettingOut])
def list_settings(db: Db, actor: Actor = Require(Permission.TASER_EXCEPTION_READ)) -> list[SettingOut]:
    """The numbers the Taser rules read, with their bounds."""
    return _settings_out(all_settings(db))


@router.put("/settings/{name}", response_model=list[SettingOut])
def change_setting(
    name: Annotated[str, PathParam(max_length=CODE_LENGTH)],
    body: SettingIn,
    db: Db,
    actor: Actor = Require(Permission.TASER_SETTINGS_WRITE),
) -> list[SettingOut]:
    """Change one setting within its bounds (audited with the old value)."""
    set_setting(db, actor, name, body.value)
    return _settings_out(all_settings(db))
