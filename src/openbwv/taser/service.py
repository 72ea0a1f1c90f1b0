"""Taser deployment reports: the rules a report must meet to be filed, and who reads which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, fleet, people
from openbwv.audit import AuditAction, Target
from openbwv.errors import Forbidden, InvalidInput, OpenbwvError
from openbwv.fleet import training
from openbwv.policy import Actor, Fact, Permission, RecordKind, can, is_in, scope, scope_clause
from openbwv.taser import linking, reconcile
from openbwv.taser.models import Deployment
from openbwv.taser.schemas import DeploymentIn
from openbwv.taser.vocabulary import (
    AGE_BANDS,
    CARTRIDGE_LEVELS,
    ETHNICITIES,
    IMPACT_FACTORS,
    LEVELS,
    LOCATION_TYPES,
    OUTCOMES,
    REASONS,
    highest_level,
)

TASER_AUTHORITY = "taser"


class DeploymentRefused(OpenbwvError):
    """A report that breaks a rule, named for machines with the facts in the message (422)."""

    status_code = 422

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message, detail={"rule": rule, "message": message})
        self.rule = rule


@dataclass(frozen=True)
class DeploymentFilter:
    collar_number: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    level: str | None = None
    """The highest level reached."""


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(field, f"{value!r} is not one of {', '.join(allowed)}")


def _all_of(field: str, values: list[str], allowed: tuple[str, ...]) -> None:
    for value in values:
        _one_of(field, value, allowed)


def _check_vocabulary(request: DeploymentIn) -> None:
    _one_of("location_type", request.location_type, LOCATION_TYPES)
    _all_of("reasons", request.reasons, REASONS)
    _all_of("impact_factors", request.impact_factors, IMPACT_FACTORS)
    _one_of("subject_age_band", request.subject_age_band, AGE_BANDS)
    _one_of("subject_ethnicity", request.subject_ethnicity, ETHNICITIES)
    _one_of("outcome", request.outcome, OUTCOMES)


def _check_levels(levels: list[str], *, collar: str, serial: str, at: datetime) -> None:
    if not levels:
        raise DeploymentRefused(
            "no_levels",
            f"The report of officer {collar}'s use of Taser {serial} at {_when(at)} names no level used.",
        )
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise DeploymentRefused(
            "unknown_level",
            f"The report of officer {collar}'s use of Taser {serial} at {_when(at)} names unknown "
            f"level{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; the levels are "
            f"{', '.join(LEVELS)}.",
        )


def _check_cartridges(
    db: Session, request: DeploymentIn, *, collar: str, serial: str, model: str, at: datetime
) -> None:
    count = request.cartridges_discharged
    fired = CARTRIDGE_LEVELS & set(request.levels)
    if fired and count == 0:
        raise DeploymentRefused(
            "fired_without_cartridge",
            f"Officer {collar} reports Taser {serial} fired at {_when(at)} but no cartridge discharged.",
        )
    if count and not fired:
        raise DeploymentRefused(
            "cartridge_without_firing",
            f"Officer {collar} reports {count} cartridge{'s' if count != 1 else ''} discharged from "
            f"Taser {serial} at {_when(at)}, but not that it was fired.",
        )
    taser_model = fleet.taser_model(db, model)
    bays = taser_model.cartridge_bays if taser_model is not None else 1
    if count > bays:
        raise DeploymentRefused(
            "too_many_cartridges",
            f"Officer {collar} reports {count} cartridges discharged from Taser {serial} at {_when(at)}, "
            f"but a {model} holds {bays}.",
        )
    given = request.cartridge_bays
    if len(given) != count or len(set(given)) != len(given) or any(not 1 <= b <= bays for b in given):
        raise DeploymentRefused(
            "cartridge_bays_mismatch",
            f"Officer {collar} reports {count} cartridge{'s' if count != 1 else ''} discharged from "
            f"Taser {serial} at {_when(at)}; name one bay of the {model}'s 1 to {bays} for each, "
            f"each once (given: {', '.join(map(str, given)) or 'none'}).",
        )


def _check_holder_and_authority(
    db: Session, officer_id: int, *, collar: str, serial: str, at: datetime
) -> None:
    holder = fleet.holder_at(db, serial, at)
    if holder is None or holder.officer_id != officer_id:
        held_by = f"issued to officer {holder.collar_number}" if holder else "issued to nobody"
        raise DeploymentRefused(
            "taser_not_issued",
            f"Taser {serial} was not issued to officer {collar} at {_when(at)}: it was {held_by} then.",
        )
    day = at.date()
    authority = training.authority_on(db, officer_id, TASER_AUTHORITY, on=day)
    if authority is None:
        raise DeploymentRefused(
            "taser_authority_required",
            f"Officer {collar} had not passed the Taser initial course by {_when(at)}, "
            f"when they used Taser {serial}.",
        )
    if not authority.in_date:
        raise DeploymentRefused(
            "taser_authority_lapsed",
            f"Officer {collar}'s Taser authority lapsed on {authority.expires_on}, before they used "
            f"Taser {serial} at {_when(at)}; the last Taser course was passed on "
            f"{authority.last_passed_on.isoformat()}.",
        )


@dataclass(frozen=True)
class CheckedReport:
    officer_id: int
    collar: str
    serial: str
    at: datetime


def check_report(db: Session, actor: Actor, request: DeploymentIn, *, now: datetime) -> CheckedReport:
    """Check a report (filed or edited) against every rule; the officer, Taser and time it names."""
    if request.occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at", "give the time with its zone, e.g. 2026-11-26T20:00:00Z")
    at = request.occurred_at.astimezone(UTC)
    officer = people.get_officer(db, request.collar_number)
    if officer is None:
        raise InvalidInput("collar_number", f"no officer has collar number {request.collar_number}")
    if officer.id != actor.officer_id and not can(actor, Permission.TASER_DEPLOYMENT_FILE_ANY):
        raise Forbidden(
            f"You may file a deployment report only for yourself, not for officer {officer.collar_number}.",
            rule="own_reports_only",
        )
    device = fleet.get_device(db, request.taser_serial)
    if device is None or device.kind != "taser":
        raise InvalidInput("taser_serial", f"no Taser has serial {request.taser_serial}")
    collar, serial = officer.collar_number, device.serial
    _check_levels(request.levels, collar=collar, serial=serial, at=at)
    if at > now:
        raise DeploymentRefused(
            "occurred_in_future",
            f"Officer {collar}'s use of Taser {serial} is reported at {_when(at)}, after now ({_when(now)}).",
        )
    _check_vocabulary(request)
    _check_cartridges(db, request, collar=collar, serial=serial, model=device.model, at=at)
    _check_holder_and_authority(db, officer.id, collar=collar, serial=serial, at=at)
    return CheckedReport(officer.id, collar, serial, at)


_COPIED_AS_GIVEN = (
    "lat",
    "lon",
    "location_type",
    "cartridges_discharged",
    "subject_age_band",
    "subject_gender",
    "subject_ethnicity",
    "subject_self_defined_ethnicity",
    "subject_injured",
    "subject_medical_attention",
    "officer_injured",
    "officer_medical_attention",
    "officer_assaulted",
    "outcome",
)
_LISTS = ("levels", "cartridge_bays", "reasons", "impact_factors")
REPORT_FIELDS = (
    "taser_serial",
    "occurred_at",
    "incident_number",
    "highest_level",
    *_LISTS,
    *_COPIED_AS_GIVEN,
)
"""What a report says (``write_report`` sets each), beside who it is about (the officer)."""


def write_report(deployment: Deployment, request: DeploymentIn, checked: CheckedReport) -> None:
    """Put a checked report's fields on the row (a new one, or one being edited)."""
    deployment.officer_id = checked.officer_id
    deployment.taser_serial = checked.serial
    deployment.occurred_at = checked.at
    deployment.incident_number = request.incident_number.strip()
    deployment.highest_level = highest_level(request.levels)
    for name in _COPIED_AS_GIVEN:
        setattr(deployment, name, getattr(request, name))
    for name in _LISTS:
        setattr(deployment, name, list(getattr(request, name)))


def file_deployment(
    db: Session, actor: Actor, request: DeploymentIn, *, now: datetime | None = None
) -> Deployment:
    """File a Taser deployment report after checking it against the rules; record its discharged
    cartridges on the Taser, link its footage, and audit the filing."""
    now = now or clock.now()
    checked = check_report(db, actor, request, now=now)
    deployment = Deployment(status="submitted", filed_by=actor.username, created_at=now, version=1)
    write_report(deployment, request, checked)
    db.add(deployment)
    db.flush()
    for bay in deployment.cartridge_bays:
        fleet.discharge_cartridge(
            db,
            actor,
            taser_serial=checked.serial,
            bay=bay,
            discharged_at=checked.at,
            note=f"deployment report {deployment.id}",
            now=now,
        )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_DEPLOYMENT_FILED,
        target=Target("taser_deployment", str(deployment.id)),
        details={
            "officer": checked.collar,
            "taser": checked.serial,
            "occurred_at": checked.at.isoformat(),
            "highest_level": deployment.highest_level,
            "cartridges_discharged": deployment.cartridges_discharged,
            "incident_number": deployment.incident_number,
        },
    )
    linking.link_footage(db, deployment, now=now)
    reconcile.reconcile_report(db, deployment, now=now)
    return deployment


def _visible(actor: Actor) -> ColumnElement[bool]:
    """The reports the record rules let the actor read: every one for those who read them force-wide,
    otherwise their own."""
    visible = scope(actor, Permission.TASER_DEPLOYMENT_READ, RecordKind.TASER_DEPLOYMENT)
    return scope_clause(visible, {Fact.OFFICER: is_in(Deployment.officer_id)})


def get_deployment(db: Session, actor: Actor, deployment_id: int) -> Deployment | None:
    """One report, or None when there is none or it is hidden from the actor."""
    return db.scalar(select(Deployment).where(Deployment.id == deployment_id, _visible(actor)))


def list_deployments(
    db: Session, actor: Actor, *, where: DeploymentFilter, limit: int, offset: int
) -> tuple[list[Deployment], int]:
    """The reports the actor may read, newest use first, filtered by officer, time and highest level."""
    clauses = [_visible(actor)]
    if where.collar_number is not None:
        officer = people.get_officer(db, where.collar_number)
        if officer is None:
            return [], 0
        clauses.append(Deployment.officer_id == officer.id)
    if where.since is not None:
        clauses.append(Deployment.occurred_at >= where.since)
    if where.until is not None:
        clauses.append(Deployment.occurred_at < where.until)
    if where.level is not None:
        _one_of("level", where.level, LEVELS)
        clauses.append(Deployment.highest_level == where.level)
    total = db.scalar(select(func.count()).select_from(Deployment).where(*clauses)) or 0
    rows = db.scalars(
        select(Deployment)
        .where(*clauses)
        .order_by(Deployment.occurred_at.desc(), Deployment.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def collar_numbers(db: Session, deployments: list[Deployment]) -> dict[int, str]:
    """The collar number of each report's officer."""
    collars: dict[int, str] = {}
    for officer_id in {d.officer_id for d in deployments}:
        officer = people.get_officer_by_id(db, officer_id)
        collars[officer_id] = officer.collar_number if officer is not None else ""
    return collars
