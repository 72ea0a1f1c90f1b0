"""The force's reason codes: each permits some kinds of access and may forbid others."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit
from openbwv.access.models import FORBIDS, PERMITS, AccessKind, AccessReason, AccessReasonRule
from openbwv.audit import AuditAction, Target
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.inputs import column_length, control_character_problem
from openbwv.policy import SYSTEM, Actor

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_LENGTH = column_length(AccessReason.code)
LABEL_LENGTH = column_length(AccessReason.label)
DESCRIPTION_LENGTH = 1000


@dataclass(frozen=True)
class ReasonSeed:
    code: str
    label: str
    description: str
    permits: frozenset[AccessKind]
    forbids: frozenset[AccessKind] = frozenset()


# The reasons a new force starts with (migrations 0009 and 0018 store the same rows); the force edits the
# table, not this list. Live view "will not be used for any independent scrutiny around use of force
# or stop and search", so the two scrutiny reasons forbid it outright.
DEFAULT_REASONS: tuple[ReasonSeed, ...] = (
    ReasonSeed(
        "incident-response",
        "Live incident response",
        "Supporting officers at an incident in progress: what their cameras show now and have just recorded.",
        frozenset({AccessKind.LIVE_VIEW, AccessKind.FOOTAGE_VIEW}),
    ),
    ReasonSeed(
        "officer-safety",
        "Officer safety",
        "Checking on an officer who may be in danger: an emergency button, no answer on the radio.",
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    # Migration 0018 adds these four operational reasons for live view.
    ReasonSeed(
        "critical-incident",
        "Critical incident",
        "Commanding or supporting a critical incident in progress: firearms, a major incident, serious harm.",
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    ReasonSeed(
        "public-order-command",
        "Public order command",
        "Gold, silver or bronze command of a public order or public safety operation.",
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    ReasonSeed(
        "pursuit-support",
        "Pursuit support",
        "Supporting a vehicle or foot pursuit in progress.",
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    ReasonSeed(
        "missing-person",
        "Missing person search",
        "Searching for a missing person at risk: what the officers searching see now.",
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    ReasonSeed(
        "evidential-review",
        "Evidential review",
        "Reviewing recorded footage as evidence for a crime or incident, or preparing it for disclosure.",
        frozenset({AccessKind.FOOTAGE_VIEW, AccessKind.FOOTAGE_VIEW_REDACTED}),
    ),
    ReasonSeed(
        "investigation",
        "Criminal investigation",
        "Investigating an offence: recorded footage linked to the crime or incident number.",
        frozenset({AccessKind.FOOTAGE_VIEW}),
    ),
    ReasonSeed(
        "complaint-investigation",
        "Complaint or conduct investigation",
        "Professional standards looking into a complaint or an officer's conduct.",
        frozenset({AccessKind.FOOTAGE_VIEW}),
    ),
    ReasonSeed(
        "uof-scrutiny",
        "Independent scrutiny of use of force",
        "A public scrutiny panel reviewing recorded uses of force, Taser included. Never live.",
        frozenset({AccessKind.FOOTAGE_VIEW_REDACTED}),
        frozenset({AccessKind.LIVE_VIEW}),
    ),
    ReasonSeed(
        "stop-search-scrutiny",
        "Independent scrutiny of stop and search",
        "A public scrutiny panel reviewing recorded stops and searches. Never live.",
        frozenset({AccessKind.FOOTAGE_VIEW_REDACTED}),
        frozenset({AccessKind.LIVE_VIEW}),
    ),
)


# The reasons that name a complaint or conduct matter: a grant under one lets professional
# standards see the footage (policy's "professional standards see footage through a complaint or
# conduct grant").
CONDUCT_REASONS: frozenset[str] = frozenset({"complaint-investigation"})


def kind_label(kind: str) -> str:
    """How a kind of access reads in a sentence: "live view", "viewing footage"."""
    return AccessKind(kind).label if kind in set(AccessKind) else kind


def parse_kinds(field: str, values: Iterable[str]) -> frozenset[AccessKind]:
    """Kinds of access named by their values; an unknown one is refused on ``field``."""
    kinds = set()
    for value in values:
        if value not in set(AccessKind):
            known = ", ".join(k.value for k in AccessKind)
            raise InvalidInput(field, f"unknown kind of access {value!r}; known kinds: {known}")
        kinds.add(AccessKind(value))
    return frozenset(kinds)


def _check_rules(permits: frozenset[AccessKind], forbids: frozenset[AccessKind]) -> None:
    if not permits:
        raise InvalidInput("permits", "a reason must permit at least one kind of access")
    both = sorted(permits & forbids)
    if both:
        raise InvalidInput(
            "forbids",
            f"a reason cannot both permit and forbid {', '.join(k.label for k in both)}",
        )


def _check_text(field: str, value: str, maximum: int, *, required: bool, free_text: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > maximum:
        raise InvalidInput(field, f"must be at most {maximum} characters")
    problem = control_character_problem(value, free_text=free_text)
    if problem:
        raise InvalidInput(field, problem)
    return value


def _check_code(code: str) -> str:
    code = code.strip()
    if not (2 <= len(code) <= CODE_LENGTH) or not CODE_PATTERN.match(code):
        raise InvalidInput(
            "code",
            f"2 to {CODE_LENGTH} lower-case letters or digits, words joined by '-' (e.g. officer-safety)",
        )
    return code


def _set_rules(reason: AccessReason, permits: frozenset[AccessKind], forbids: frozenset[AccessKind]) -> None:
    wanted = {**{k.value: PERMITS for k in permits}, **{k.value: FORBIDS for k in forbids}}
    for rule in list(reason.rules):
        if rule.kind not in wanted:
            reason.rules.remove(rule)
        else:
            rule.effect = wanted.pop(rule.kind)
    for kind, effect in sorted(wanted.items()):
        reason.rules.append(AccessReasonRule(kind=kind, effect=effect))


def _summary(reason: AccessReason) -> dict[str, object]:
    return {
        "label": reason.label,
        "description": reason.description,
        "permits": [k.value for k in reason.permits],
        "forbids": [k.value for k in reason.forbids],
        "active": reason.active,
    }


def list_reasons(db: Session, *, include_inactive: bool = True) -> list[AccessReason]:
    """The force's reason codes, active ones first, each group by code."""
    query = select(AccessReason).order_by(AccessReason.active.desc(), AccessReason.code)
    if not include_inactive:
        query = query.where(AccessReason.active.is_(True))
    return list(db.scalars(query))


def get_reason(db: Session, code: str) -> AccessReason | None:
    """One reason code, active or not; None when there is none."""
    return db.scalar(select(AccessReason).where(AccessReason.code == code))


def _reason(db: Session, code: str) -> AccessReason:
    reason = get_reason(db, code)
    if reason is None:
        raise NotFound("reason code")
    return reason


def create_reason(
    db: Session,
    actor: Actor,
    *,
    code: str,
    label: str,
    permits: Iterable[str],
    forbids: Iterable[str] = (),
    description: str = "",
) -> AccessReason:
    """Add a reason code the force recognises; it permits at least one kind of access and never both
    permits and forbids the same kind."""
    code = _check_code(code)
    label = _check_text("label", label, LABEL_LENGTH, required=True)
    description = _check_text("description", description, DESCRIPTION_LENGTH, required=False, free_text=True)
    permitted, forbidden = parse_kinds("permits", permits), parse_kinds("forbids", forbids)
    _check_rules(permitted, forbidden)
    taken = Conflict(f"There is already a reason with the code {code!r}.", rule="reason_code_taken")
    if get_reason(db, code) is not None:
        raise taken
    reason = AccessReason(code=code, label=label, description=description, active=True)
    _set_rules(reason, permitted, forbidden)
    with refusing_duplicates(db, {"uq_access_reason_code": taken}):
        db.add(reason)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.ACCESS_REASON_CREATED,
        target=Target("access_reason", code),
        details=_summary(reason),
    )
    return reason


def update_reason(
    db: Session,
    actor: Actor,
    *,
    code: str,
    label: str | None = None,
    description: str | None = None,
    permits: Iterable[str] | None = None,
    forbids: Iterable[str] | None = None,
) -> AccessReason:
    """Change a reason's label, description or the kinds it permits and forbids (its code stays).
    Grants already made under it are unchanged; new grants and renewals follow the new rules."""
    reason = _reason(db, code)
    before = _summary(reason)
    if label is not None:
        reason.label = _check_text("label", label, LABEL_LENGTH, required=True)
    if description is not None:
        reason.description = _check_text(
            "description", description, DESCRIPTION_LENGTH, required=False, free_text=True
        )
    permitted = parse_kinds("permits", permits) if permits is not None else frozenset(reason.permits)
    forbidden = parse_kinds("forbids", forbids) if forbids is not None else frozenset(reason.forbids)
    _check_rules(permitted, forbidden)
    _set_rules(reason, permitted, forbidden)
    db.flush()
    after = _summary(reason)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.ACCESS_REASON_UPDATED,
            target=Target("access_reason", code),
            details={"changed": changed},
        )
    return reason


def set_reason_active(db: Session, actor: Actor, *, code: str, active: bool) -> AccessReason:
    """Deactivate a reason (no new grants or renewals name it; grants made under it keep it) or
    bring it back into use."""
    reason = _reason(db, code)
    if reason.active == active:
        state = "in use" if active else "already deactivated"
        raise Conflict(
            f"Reason {code!r} is {state}.", rule=f"reason_already_{'active' if active else 'inactive'}"
        )
    reason.active = active
    audit.record(
        db,
        actor=actor,
        action=AuditAction.ACCESS_REASON_ACTIVATED if active else AuditAction.ACCESS_REASON_DEACTIVATED,
        target=Target("access_reason", code),
    )
    return reason


def seed_default_reasons(db: Session, actor: Actor = SYSTEM) -> int:
    """Add each default reason whose code is missing; existing reasons are left as the force set them.
    The number added."""
    existing = set(db.scalars(select(AccessReason.code)))
    added = 0
    for seed in DEFAULT_REASONS:
        if seed.code not in existing:
            create_reason(
                db,
                actor,
                code=seed.code,
                label=seed.label,
                description=seed.description,
                permits=seed.permits,
                forbids=seed.forbids,
            )
            added += 1
    return added
