"""A report's life after filing: a supervisor signs it off or returns it with comments; the officer
edits a returned report in place, and an edit of a signed-off one makes a new version, the old one
kept as it was."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, Forbidden, InvalidInput
from openbwv.policy import Actor
from openbwv.taser import linking, reconcile
from openbwv.taser.models import COMMENT_LENGTH, Deployment, DeploymentReview, DeploymentVersion
from openbwv.taser.schemas import DeploymentIn
from openbwv.taser.service import (
    REPORT_FIELDS,
    DeploymentRefused,
    check_report,
    get_deployment,
    write_report,
)

CONTENT_FIELDS = REPORT_FIELDS
"""What a report says, as a version keeps it (who filed it and its state are kept beside)."""


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def content(deployment: Deployment) -> dict[str, Any]:
    """The report's fields as JSON values."""
    return {name: _json(getattr(deployment, name)) for name in CONTENT_FIELDS}


def _locked(db: Session, actor: Actor, deployment_id: int) -> Deployment | None:
    """The report, locked for the change, or None when it is missing or hidden from the actor."""
    if get_deployment(db, actor, deployment_id) is None:
        return None
    return db.scalar(select(Deployment).where(Deployment.id == deployment_id).with_for_update())


def _reviewable(deployment: Deployment, actor: Actor, doing: str) -> None:
    if deployment.officer_id == actor.officer_id:
        raise Forbidden(f"You may not {doing} your own deployment report.", rule="own_report_review")
    if deployment.status != "submitted":
        state = "signed off" if deployment.status == "signed_off" else "returned to its officer"
        raise Conflict(
            f"Deployment report {deployment.id} (version {deployment.version}) is {state}; only a "
            f"submitted report can be reviewed.",
            rule="not_submitted",
        )


def _review(
    db: Session, actor: Actor, deployment: Deployment, decision: str, comment: str | None, now: datetime
) -> None:
    db.add(
        DeploymentReview(
            deployment_id=deployment.id,
            version=deployment.version,
            decision=decision,
            comment=comment,
            reviewer=actor.username,
            reviewed_at=now,
        )
    )


def sign_off(
    db: Session, actor: Actor, deployment_id: int, *, now: datetime | None = None
) -> Deployment | None:
    """Sign off a submitted report (not one's own); None when it is missing or hidden."""
    now = now or clock.now()
    deployment = _locked(db, actor, deployment_id)
    if deployment is None:
        return None
    _reviewable(deployment, actor, "sign off")
    deployment.status = "signed_off"
    deployment.signed_off_by, deployment.signed_off_at = actor.username, now
    _review(db, actor, deployment, "signed_off", None, now)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_DEPLOYMENT_SIGNED_OFF,
        target=Target("taser_deployment", str(deployment.id)),
        details={"version": deployment.version},
    )
    return deployment


def return_report(
    db: Session, actor: Actor, deployment_id: int, *, comment: str, now: datetime | None = None
) -> Deployment | None:
    """Return a submitted report to its officer with comments saying what to put right."""
    now = now or clock.now()
    text = comment.strip()
    if not text:
        raise InvalidInput("comment", "say what the officer should put right")
    if len(text) > COMMENT_LENGTH:
        raise InvalidInput("comment", f"at most {COMMENT_LENGTH} characters")
    deployment = _locked(db, actor, deployment_id)
    if deployment is None:
        return None
    _reviewable(deployment, actor, "return")
    deployment.status = "returned"
    _review(db, actor, deployment, "returned", text, now)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_DEPLOYMENT_RETURNED,
        target=Target("taser_deployment", str(deployment.id)),
        reason=text[:500],
        details={"version": deployment.version},
    )
    return deployment


def edit_deployment(
    db: Session, actor: Actor, deployment_id: int, request: DeploymentIn, *, now: datetime | None = None
) -> Deployment | None:
    """Edit a report, checked against every rule again. A submitted or returned report changes in
    place and is submitted again; a signed-off one keeps its version as it was and gains a new one,
    submitted for sign-off. The officer, Taser and cartridges cannot change: the cartridges are
    recorded on the Taser."""
    now = now or clock.now()
    deployment = _locked(db, actor, deployment_id)
    if deployment is None:
        return None
    checked = check_report(db, actor, request, now=now)
    fixed = {
        "officer": (checked.officer_id, deployment.officer_id),
        "taser_serial": (checked.serial, deployment.taser_serial),
        "cartridge_bays": (sorted(request.cartridge_bays), sorted(deployment.cartridge_bays)),
    }
    changed_fixed = [name for name, (new, old) in fixed.items() if new != old]
    if changed_fixed:
        raise DeploymentRefused(
            "fixed_on_edit",
            f"Deployment report {deployment.id} cannot change its {', '.join(changed_fixed)} on edit: "
            f"file a new report, or ask the equipment manager to correct the Taser's cartridges.",
        )
    before = content(deployment)
    if deployment.status == "signed_off":
        db.add(
            DeploymentVersion(
                deployment_id=deployment.id,
                version=deployment.version,
                content=before,
                signed_off_by=deployment.signed_off_by,
                signed_off_at=deployment.signed_off_at,
                replaced_by=actor.username,
                replaced_at=now,
            )
        )
        deployment.version += 1
    write_report(deployment, request, checked)
    after = content(deployment)
    deployment.status = "submitted"
    deployment.signed_off_by = deployment.signed_off_at = None
    deployment.updated_at = now
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_DEPLOYMENT_EDITED,
        target=Target("taser_deployment", str(deployment.id)),
        details={
            "version": deployment.version,
            "changed": {
                name: {"old": before[name], "new": after[name]}
                for name in after
                if after[name] != before[name]
            },
        },
    )
    db.flush()
    linking.link_footage(db, deployment, now=now)
    if after["occurred_at"] != before["occurred_at"]:
        reconcile.reconcile_report(db, deployment, now=now)
    return deployment


def versions(db: Session, deployment_id: int) -> list[DeploymentVersion]:
    """The report's replaced versions, oldest first."""
    return list(
        db.scalars(
            select(DeploymentVersion)
            .where(DeploymentVersion.deployment_id == deployment_id)
            .order_by(DeploymentVersion.version)
        )
    )


def reviews(db: Session, deployment_id: int) -> list[DeploymentReview]:
    """The supervisors' decisions on the report, oldest first."""
    return list(
        db.scalars(
            select(DeploymentReview)
            .where(DeploymentReview.deployment_id == deployment_id)
            .order_by(DeploymentReview.reviewed_at, DeploymentReview.id)
        )
    )
