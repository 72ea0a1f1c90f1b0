"""Exceptions professional standards work through: a use of Taser with no footage, a trigger pull no
report accounts for, a report whose time disagrees with the Taser's own log. Each stays open until
someone records why; raising one that is already there (open or explained) changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, InvalidInput
from openbwv.policy import SYSTEM, Actor
from openbwv.taser.models import EXCEPTION_KINDS, TaserException


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


EXPLANATIONS: dict[str, tuple[str, ...]] = {
    "no_footage": (
        "camera_not_issued",
        "camera_failed",
        "not_switched_on",
        "footage_lost",
        "footage_arrived",
        "other",
    ),
    "unreported_trigger": (
        "spark_test",
        "training",
        "accidental_discharge",
        "report_filed",
        "other",
    ),
    "time_mismatch": ("device_clock_wrong", "report_corrected", "other"),
}
"""The reasons that close an exception, by kind; ``other`` needs words."""
SYSTEM_EXPLANATIONS = frozenset({"footage_arrived"})
"""Recorded by the system alone (footage linked after the exception was raised)."""


def list_exceptions(
    db: Session, *, kind: str | None, open_only: bool, limit: int, offset: int
) -> tuple[list[TaserException], int]:
    """Exceptions newest first, of one kind or all, open ones only or every one."""
    if kind is not None and kind not in EXCEPTION_KINDS:
        raise InvalidInput("kind", f"{kind!r} is not one of {', '.join(EXCEPTION_KINDS)}")
    clauses = []
    if kind is not None:
        clauses.append(TaserException.kind == kind)
    if open_only:
        clauses.append(TaserException.explained_at.is_(None))
    total = db.scalar(select(func.count()).select_from(TaserException).where(*clauses)) or 0
    rows = db.scalars(
        select(TaserException)
        .where(*clauses)
        .order_by(TaserException.raised_at.desc(), TaserException.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def explain_exception(
    db: Session,
    actor: Actor,
    exception_id: int,
    *,
    explanation: str,
    text: str | None,
    now: datetime | None = None,
) -> TaserException | None:
    """Record why an open exception happened, which closes it; None when there is no such exception.
    Audited with the reason."""
    exception = db.scalar(select(TaserException).where(TaserException.id == exception_id).with_for_update())
    if exception is None:
        return None
    allowed = tuple(code for code in EXPLANATIONS[exception.kind] if code not in SYSTEM_EXPLANATIONS)
    if explanation not in allowed:
        raise InvalidInput("explanation", f"{explanation!r} is not one of {', '.join(allowed)}")
    words = (text or "").strip() or None
    if explanation == "other" and words is None:
        raise InvalidInput("text", "say what happened when the explanation is 'other'")
    if exception.explained_at is not None:
        raise Conflict(
            f"Exception {exception.id} was explained by {exception.explained_by} on "
            f"{exception.explained_at:%Y-%m-%d %H:%M} UTC ({exception.explanation}).",
            rule="already_explained",
        )
    exception.explanation, exception.explanation_text = explanation, words
    exception.explained_by, exception.explained_at = actor.username, now or clock.now()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_EXCEPTION_EXPLAINED,
        target=Target("taser_exception", str(exception.id)),
        reason=(words or explanation)[:500],
        details={"kind": exception.kind, "explanation": explanation, "deployment": exception.deployment_id},
    )
    return exception
