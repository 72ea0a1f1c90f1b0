"""Misuse rules' thresholds as data: the force tunes them, the rules read them each run.

A rule that can be tuned lists its ``thresholds``: each names one of its integer fields, with the
default the migration seeds and the bounds a change must stay within. Rules are frozen dataclasses,
so a run evaluates a copy of each rule with the stored values in place of its defaults. Every change
is an audit event with the old and the new value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.audit.actions import AuditAction
from openbwv.audit.models import AuditRuleThreshold
from openbwv.audit.service import Target, record
from openbwv.errors import InvalidInput, NotFound
from openbwv.policy import Actor


@dataclass(frozen=True)
class Threshold:
    """One tunable number of a rule: the rule's field ``parameter``, its default and its bounds;
    ``at_most`` names another of the rule's thresholds this one may not exceed."""

    parameter: str
    default: int
    low: int
    high: int
    unit: str
    at_most: str | None = None


@runtime_checkable
class Tunable(Protocol):
    """A misuse rule with thresholds (a frozen dataclass whose fields they name)."""

    @property
    def name(self) -> str: ...

    @property
    def thresholds(self) -> tuple[Threshold, ...]: ...


@dataclass(frozen=True)
class Setting:
    """A threshold as it stands: its value now, and who changed it last (None while the default)."""

    rule: str
    parameter: str
    value: int
    default: int
    low: int
    high: int
    unit: str
    changed_by: str | None
    changed_at: datetime | None


R = TypeVar("R")


def _stored(db: Session) -> dict[tuple[str, str], AuditRuleThreshold]:
    return {(row.rule, row.parameter): row for row in db.scalars(select(AuditRuleThreshold))}


def tuned(db: Session, rules: Iterable[R]) -> list[R]:
    """``rules`` with each tunable rule's thresholds read from the table (its defaults where none)."""
    stored = _stored(db)
    result: list[R] = []
    for rule in rules:
        if isinstance(rule, Tunable):
            values = {
                t.parameter: stored[(rule.name, t.parameter)].value
                for t in rule.thresholds
                if (rule.name, t.parameter) in stored
            }
            rule = dataclasses.replace(rule, **values)  # type: ignore[type-var]
        result.append(rule)
    return result


def list_settings(db: Session, rules: Iterable[object]) -> list[tuple[str, list[Setting]]]:
    """Each rule's name with its thresholds as they stand (an empty list for a rule with none)."""
    stored = _stored(db)
    listed = []
    for rule in rules:
        name = str(getattr(rule, "name", ""))
        settings = []
        if isinstance(rule, Tunable):
            for t in rule.thresholds:
                row = stored.get((name, t.parameter))
                settings.append(
                    Setting(
                        rule=name,
                        parameter=t.parameter,
                        value=row.value if row else getattr(rule, t.parameter),
                        default=t.default,
                        low=t.low,
                        high=t.high,
                        unit=t.unit,
                        changed_by=row.changed_by if row else None,
                        changed_at=row.changed_at if row else None,
                    )
                )
        listed.append((name, settings))
    return listed


def _check(rule: Tunable, threshold: Threshold, values: dict[str, int]) -> None:
    value = values[threshold.parameter]
    if not threshold.low <= value <= threshold.high:
        raise InvalidInput(
            "value", f"{threshold.parameter} is from {threshold.low} to {threshold.high} {threshold.unit}"
        )
    for other in rule.thresholds:
        if other.at_most and values[other.parameter] > values[other.at_most]:
            raise InvalidInput(
                "value", f"{other.parameter} may not exceed {other.at_most} ({values[other.at_most]})"
            )


def set_threshold(
    db: Session, actor: Actor, *, rules: Sequence[object], rule: str, parameter: str, value: int
) -> Setting:
    """Change one threshold of a running rule, within its bounds (422 naming ``value`` otherwise); an
    unknown rule or parameter is not found. Audited with the old and the new value."""
    # Locked first on PostgreSQL: two changes of one threshold take turns, each seeing the other's value.
    row = db.get(AuditRuleThreshold, (rule, parameter), with_for_update=True)
    found = next((r for r in tuned(db, rules) if isinstance(r, Tunable) and r.name == rule), None)
    threshold = next((t for t in found.thresholds if t.parameter == parameter), None) if found else None
    if found is None or threshold is None:
        raise NotFound("rule threshold")
    values = {t.parameter: int(getattr(found, t.parameter)) for t in found.thresholds}
    old, values[parameter] = values[parameter], value
    _check(found, threshold, values)
    if row is None:
        row = AuditRuleThreshold(rule=rule, parameter=parameter, value=value)
        db.add(row)
    row.value, row.changed_by, row.changed_at = value, actor.username, clock.now()
    record(
        db,
        actor=actor,
        action=AuditAction.AUDIT_ALERT_RULE_CHANGED,
        target=Target("alert_rule", f"{rule}.{parameter}"),
        details={"rule": rule, "parameter": parameter, "old": old, "new": value},
    )
    db.flush()
    return next(s for s in list_settings(db, [found])[0][1] if s.parameter == parameter)
