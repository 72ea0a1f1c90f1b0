"""Taser deployment reports over JSON: file one, read one, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from openbwv import footage
from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import linking, review, service
from openbwv.taser.models import CODE_LENGTH, Deployment
from openbwv.taser.schemas import (
    COLLAR_LENGTH,
    DeploymentIn,
    DeploymentOut,
    HistoryOut,
    LinkedClipOut,
    ReturnIn,
    ReviewOut,
    VersionOut,
)
from openbwv.taser.vocabulary import DISCHARGE_LEVELS

router = APIRouter(prefix="/api/v1/taser", tags=["taser"], responses=API_ERRORS)


def _outs(db: Session, deployments: list[Deployment]) -> list[DeploymentOut]:
    """The reports as served, each with its officer's collar number and its linked clips."""
    collars = service.collar_numbers(db, deployments)
    links = linking.linked_clips(db, [d.id for d in deployments])
    spans = footage.clip_spans(db, {link.clip_id for found in links.values() for link in found})
    computed = {"id", "collar_number", "discharge", "clips"}
    return [
        DeploymentOut(
            id=deployment.id,
            collar_number=collars.get(deployment.officer_id, ""),
            discharge=deployment.highest_level in DISCHARGE_LEVELS,
            clips=[
                LinkedClipOut(
                    clip_id=link.clip_id,
                    reason=link.reason,
                    camera_serial=spans[link.clip_id].camera_serial,
                    recorded_at=spans[link.clip_id].start,
                    ended_at=spans[link.clip_id].end,
                    linked_at=link.linked_at,
                )
                for link in links[deployment.id]
            ],
            **{
                name: getattr(deployment, name) for name in DeploymentOut.model_fields if name not in computed
            },
        )
        for deployment in deployments
    ]


def _out(db: Session, deployment: Deployment | None) -> DeploymentOut:
    if deployment is None:
        raise NotFound("deployment report")
    return _outs(db, [deployment])[0]


@router.post("/deployments", response_model=DeploymentOut, status_code=201)
def file_deployment(
    body: DeploymentIn, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE)
) -> DeploymentOut:
    """File a Taser deployment report: 422 naming the rule a report breaks, 409 when a bay named
    holds no cartridge or one already discharged (nothing is kept)."""
    return _out(db, service.file_deployment(db, actor, body))


@router.get("/deployments/{deployment_id}", response_model=DeploymentOut)
def get_deployment(
    deployment_id: RecordId, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN)
) -> DeploymentOut:
    """One deployment report (the officer's own, or any for those who read every report)."""
    return _out(db, service.get_deployment(db, actor, deployment_id))


@router.put("/deployments/{deployment_id}", response_model=DeploymentOut)
def edit_deployment(
    deployment_id: RecordId,
    body: DeploymentIn,
    db: Db,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_FILE),
) -> DeploymentOut:
    """Edit a report, checked again: a returned or submitted one in place, a signed-off one as a new
    version (the old one kept); submitted for sign-off either way."""
    return _out(db, review.edit_deployment(db, actor, deployment_id, body))


@router.post("/deployments/{deployment_id}/sign-off", response_model=DeploymentOut)
def sign_off(
    deployment_id: RecordId, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_SIGN_OFF)
) -> DeploymentOut:
    """Sign off a submitted report (not one's own): 409 when it is not waiting for sign-off."""
    return _out(db, review.sign_off(db, actor, deployment_id))


@router.post("/deployments/{deployment_id}/return", response_model=DeploymentOut)
def return_report(
    deployment_id: RecordId,
    body: ReturnIn,
    db: Db,
    actor: Actor = Require(Permission.TASER_DEPLOYMENT_SIGN_OFF),
) -> DeploymentOut:
    """Return a submitted report to its officer with comments."""
    return _out(db, review.return_report(db, actor, deployment_id, comment=body.comment))


@router.get("/deployments/{deployment_id}/history", response_model=HistoryOut)
def history(
    deployment_id: RecordId, db: Db, actor: Actor = Require(Permission.TASER_DEPLOYMENT_READ_OWN)
) -> HistoryOut:
    """A report's replaced versions, as they were, and its supervisors' decisions."""
    if service.get_deployment(db, actor, deployment_id) is None:
        raise NotFound("deployment report")
    return HistoryOut(
        versions=[
            VersionOut.model_validate(v, from_attributes=True) for v in review.versions(db, deployment_id)
        ],
        reviews=[
            ReviewOut.model_validate(r, from_attributes=True) for r in review.reviews(db, deployment_id)
        ],
    )


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
    return Page(items=_outs(db, rows), total=total, limit=paging.limit, offset=paging.offset)
