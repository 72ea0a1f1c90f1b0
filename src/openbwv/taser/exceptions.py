"""Exceptions professional standards work through: a use of Taser with no footage, a trigger pull no
report accounts for, a report whose time disagrees with the Taser's own log. Each stays open until
someone records why; raising one that is already there (open or explained) changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.policy import SYSTEM
from openbwv.taser.models import TaserException


def raise_exception(
    db: Session,
    kind: str,
    *,
    taser_serial: str,
    occurred_at: datetime,
    deployment_id: int | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> TaserException | None:
    """Open an exception of ``kind`` on a report (``deployment_id``) or, with none, on a Taser at a
    time; None when one of that kind is already there. Audited as raised by the system."""
    at = occurred_at.astimezone(UTC)
    query = select(TaserException.id).where(TaserException.kind == kind)
    if deployment_id is not None:
        query = query.where(TaserException.deployment_id == deployment_id)
    else:
        query = query.where(
            TaserException.deployment_id.is_(None),
            TaserException.taser_serial == taser_serial,
            TaserException.occurred_at == at,
        )
    if db.scalar(query) is not None:
        return None
    exception = TaserException(
        kind=kind,
        deployment_id=deployment_id,
        taser_serial=taser_serial,
        occurred_at=at,
        details=details or {},
        raised_at=now or clock.now(),
    )
    try:
        with db.begin_nested():
            db.add(exception)
            db.flush()
    except IntegrityError:
        return None  # raised at the same moment by another worker: the unique index kept one
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.TASER_EXCEPTION_RAISED,
        target=Target("taser_exception", str(exception.id)),
        details={
            "kind": kind,
            "taser": taser_serial,
            "occurred_at": at.isoformat(),
            "deployment": deployment_id,
            **(details or {}),
        },
    )
    return exception
