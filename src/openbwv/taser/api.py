"""Taser deployment reports over JSON: file one, read one, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import service
from openbwv.taser.models import CODE_LENGTH, Deployment
from openbwv.taser.schemas import COLLAR_LENGTH, DeploymentIn, DeploymentOut
from openbwv.taser.vocabulary import DISCHARGE_LEVELS

router = APIRouter(prefix="/api/v1/taser", tags=["taser"], responses=API_ERRORS)


def _out(deployment: Deployment, collars: dict[int, str]) -> DeploymentOut:
    return DeploymentOut(
        id=deployment.id,
        collar_number=collars.get(deployment.officer_id, ""),
        discharge=deployment.highest_level in DISCHARGE_LEVELS,
        **{
            name: getattr(deployment, name)
            for name in DeploymentOut.model_fields
            if name not in {"id", "collar_number", "discharge"}
        },
    )


@router.post("/deployments", response_model=DeploymentOut, status_code=201)
def file_deployment(
    body: DeploymentIn, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE)
) -> DeploymentOut:
    """File a Taser deployment report: 422 naming the rule a report breaks, 409 when a bay named
    holds no cartridge or one already discharged (nothing is kept)."""
    deployment = service.file_deployment(db, actor, body)
    return _out(deployment, service.collar_numbers(db, [deployment]))


@router.get("/deployments/{deployment_id}", response_model=DeploymentOut)
def get_deployment(
    deployment_id: RecordId, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN)
) -> DeploymentOut:
    """One deployment report (the officer's own, or any for those who read every report)."""
    deployment = service.get_deployment(db, actor, deployment_id)
    if deployment is None:
        raise NotFound("deployment report")
    return _out(deployment, service.collar_numbers(db, [deployment]))


@router.get("/deployments", response_model=Page[DeploymentOut])
def list_deployments(
    db: Db,
    paging: Paging,
    collar_number: Annotated[str | None, Query(max_length=COLLAR_LENGTH)] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Used at or after this time, with its zone.")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Used before this time, with its zone.")] = None,
    level: Annotated[str | None, Query(max_length=CODE_LENGTH, description="Highest level reached.")] = None,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN),
) -> Page[DeploymentOut]:
    """Deployment reports the caller may read, newest first, by officer, time and highest level."""
    where = service.DeploymentFilter(collar_number=collar_number, since=since, until=until, level=level)
    rows, total = service.list_deployments(db, actor, where=where, limit=paging.limit, offset=paging.offset)
    collars = service.collar_numbers(db, rows)
    return Page(items=[_out(d, collars) for d in rows], total=total, limit=paging.limit, offset=paging.offset)
