"""Misuse detection: small rules over the audit event stream that raise alerts for professional standards.

Each rule reads a recent window of events and returns findings; ``run_misuse_rules`` records each
finding as an ``audit:alert:raised`` event (so alerts are in the tamper-evident log too), citing the
triggering event ids. No event is cited twice by the same rule, so running the rules again over an
overlapping window raises nothing new: a burst raises one alert, and only new events can raise the
next. Knowledge from other domains (who is whose colleague, duty rosters) comes in through small
providers, keeping this package free of them. The rules over live views and footage plays are in
``openbwv.audit.viewing``; a rule's thresholds, where it has some, are read from the table each run
(``openbwv.audit.thresholds``). Professional standards handle the alerts (``openbwv.audit.alerts``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit import thresholds
from openbwv.audit.actions import AuditAction
from openbwv.audit.models import AuditAlert, AuditEvent
from openbwv.audit.service import Target, record
from openbwv.db import transaction
from openbwv.policy import SYSTEM

FootageRelation = Callable[[Session, str, int], str | None]
"""``(db, username, subject officer id)`` → ``"self"``, ``"colleague"`` or None: how the user stands to
the officer a piece of footage is about."""

DutyHours = Callable[[Session, str, date], Sequence[tuple[datetime, datetime]] | None]
"""``(db, username, day)`` → the user's shifts overlapping that UTC day, or None when no roster is known."""


@dataclass(frozen=True)
class Finding:
    rule: str
    target: Target
    event_ids: tuple[int, ...]
    summary: str


ALERT_STATES = ("open", "acknowledged", "closed")


@dataclass(frozen=True)
class Alert:
    event_id: int
    raised_at: datetime
    rule: str
    subject: str
    summary: str
    event_ids: list[int]
    state: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    outcome: str | None


@runtime_checkable
class Rule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def lookback(self) -> timedelta:
        """How far back the rule reads events (and so, alerts whose citations it must not repeat)."""

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]: ...


def events_in(db: Session, *, since: datetime, until: datetime, actions: Iterable[str]) -> list[Any]:
    """Events in ``(since, until]`` whose action matches one of ``actions`` (``*`` wildcards)."""
    patterns = list(actions)
    query = select(
        AuditEvent.id,
        AuditEvent.occurred_at,
        AuditEvent.action,
        AuditEvent.actor_username,
        AuditEvent.actor_user_id,
        AuditEvent.target_id,
        AuditEvent.client_address,
        AuditEvent.details,
    ).where(AuditEvent.occurred_at > since, AuditEvent.occurred_at <= until)
    prefixes = sorted({pattern.split("*", 1)[0] for pattern in patterns})
    if all(prefixes):
        query = query.where(or_(*(AuditEvent.action.startswith(p, autoescape=True) for p in prefixes)))
    rows = db.execute(query.order_by(AuditEvent.id)).all()
    return [row for row in rows if any(fnmatchcase(row.action, pattern) for pattern in patterns)]


@dataclass(frozen=True)
class FailedSignIns:
    """``threshold`` failed sign-ins for one typed username (or from one address) within ``window``."""

    by: str = "username"
    threshold: int = 10
    window: timedelta = timedelta(minutes=15)

    @property
    def name(self) -> str:
        return f"failed_sign_ins_by_{self.by}"

    @property
    def lookback(self) -> timedelta:
        return self.window

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        groups: dict[str, list[int]] = defaultdict(list)
        for row in events_in(db, since=now - self.window, until=now, actions=[AuditAction.AUTH_LOGIN_FAILED]):
            key = row.target_id if self.by == "username" else row.client_address
            if key and row.id not in cited:
                groups[key].append(row.id)
        minutes = int(self.window.total_seconds() // 60)
        kind = "user" if self.by == "username" else "address"
        return [
            Finding(
                self.name,
                Target(kind, key),
                tuple(ids),
                f"{len(ids)} failed sign-ins for {kind} {key} within {minutes} minutes",
            )
            for key, ids in sorted(groups.items())
            if len(ids) >= self.threshold
        ]


@dataclass(frozen=True)
class OwnOrColleagueFootage:
    """One user viewing footage whose subject officer is themselves or a close colleague,
    ``threshold`` times within ``window``. Footage view events carry ``details["subject_officer_id"]``."""

    relation: FootageRelation
    threshold: int = 3
    window: timedelta = timedelta(days=1)
    actions: tuple[str, ...] = ("footage:*:viewed",)
    name: str = "own_or_colleague_footage"

    @property
    def lookback(self) -> timedelta:
        return self.window

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        known: dict[tuple[str, int], str | None] = {}
        groups: dict[str, list[int]] = defaultdict(list)
        for row in events_in(db, since=now - self.window, until=now, actions=self.actions):
            subject = (row.details or {}).get("subject_officer_id")
            if row.id in cited or not isinstance(subject, int):
                continue
            pair = (row.actor_username, subject)
            if pair not in known:
                known[pair] = self.relation(db, *pair)
            if known[pair]:
                groups[row.actor_username].append(row.id)
        hours = int(self.window.total_seconds() // 3600)
        return [
            Finding(
                self.name,
                Target("user", username),
                tuple(ids),
                f"{username} viewed footage of themselves or a close colleague {len(ids)} times within {hours} hours",
            )
            for username, ids in sorted(groups.items())
            if len(ids) >= self.threshold
        ]


@dataclass(frozen=True)
class OutsideDutyHours:
    """Access to footage or live video by a user outside their rostered shifts, where a roster is known.
    Opening or renewing a live view (or a grant to view footage) is a grant of access."""

    duty_hours_for: DutyHours
    lookback: timedelta = timedelta(days=1)
    actions: tuple[str, ...] = (
        "footage:*",
        "live:*",
        AuditAction.ACCESS_GRANT_GRANTED,
        AuditAction.ACCESS_GRANT_RENEWED,
    )
    name: str = "outside_duty_hours"

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        shifts: dict[tuple[str, date], Sequence[tuple[datetime, datetime]] | None] = {}
        groups: dict[str, list[int]] = defaultdict(list)
        for row in events_in(db, since=now - self.lookback, until=now, actions=self.actions):
            if row.id in cited or row.actor_user_id is None:
                continue
            key = (row.actor_username, row.occurred_at.date())
            if key not in shifts:
                shifts[key] = self.duty_hours_for(db, *key)
            known = shifts[key]
            if known is not None and not any(start <= row.occurred_at < end for start, end in known):
                groups[row.actor_username].append(row.id)
        return [
            Finding(
                self.name,
                Target("user", username),
                tuple(ids),
                f"{username} accessed footage or live video {len(ids)} times outside their duty hours",
            )
            for username, ids in sorted(groups.items())
        ]


def default_rules(
    *, footage_relation: FootageRelation | None = None, duty_hours_for: DutyHours | None = None
) -> list[Rule]:
    """The standard rules; the footage and duty-hours rules run once their providers are given."""
    rules: list[Rule] = [FailedSignIns(by="username"), FailedSignIns(by="address", threshold=20)]
    if footage_relation is not None:
        rules.append(OwnOrColleagueFootage(relation=footage_relation))
    if duty_hours_for is not None:
        rules.append(OutsideDutyHours(duty_hours_for=duty_hours_for))
    return rules


def declared_rules(declared: Iterable[object]) -> list[Rule]:
    """The misuse rules domains declare, each checked to be a :class:`Rule` with a name of its own."""
    rules: list[Rule] = []
    for rule in declared:
        if not isinstance(rule, Rule):
            raise TypeError(f"{rule!r} is declared as a misuse rule but is not one")
        if any(rule.name == other.name for other in rules):
            raise ValueError(f"misuse rule {rule.name!r} is declared twice")
        rules.append(rule)
    return rules


def _cited(db: Session, rule: str, *, since: datetime) -> set[int]:
    """Event ids that alerts of ``rule`` raised since ``since`` already cite."""
    details = db.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == AuditAction.AUDIT_ALERT_RAISED, AuditEvent.occurred_at >= since
        )
    )
    return {i for d in details if d.get("rule") == rule for i in _event_ids(d)}


def _event_ids(details: dict[str, object]) -> list[int]:
    ids = details.get("event_ids")
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def run_misuse_rules(
    factory: sessionmaker[Session], *, now: datetime, rules: Sequence[Rule] | None = None
) -> list[AuditEvent]:
    """Evaluate ``rules`` (default: ``default_rules()``) over the events up to ``now`` and record an
    alert per new finding, in one transaction; for the jobs engine. Returns the alerts raised."""
    raised = []
    with transaction(factory) as db:
        for rule in thresholds.tuned(db, rules if rules is not None else default_rules()):
            # Alerts are stamped by the clock; ``now`` may be another moment a caller evaluates.
            cited = _cited(db, rule.name, since=min(now, clock.now()) - rule.lookback)
            for finding in rule.evaluate(db, now=now, cited=cited):
                raised.append(
                    record(
                        db,
                        actor=SYSTEM,
                        action=AuditAction.AUDIT_ALERT_RAISED,
                        target=finding.target,
                        details={
                            "rule": finding.rule,
                            "subject": f"{finding.target.kind}:{finding.target.id}",
                            "summary": finding.summary,
                            "event_ids": list(finding.event_ids),
                        },
                    )
                )
        db.flush()
        db.add_all(AuditAlert(event_id=event.id, state="open") for event in raised)
    return raised


def _alert(event: AuditEvent, handling: AuditAlert) -> Alert:
    return Alert(
        event_id=event.id,
        raised_at=event.occurred_at,
        rule=str(event.details.get("rule", "")),
        subject=str(event.details.get("subject", "")),
        summary=str(event.details.get("summary", "")),
        event_ids=_event_ids(event.details),
        state=handling.state,
        acknowledged_by=handling.acknowledged_by,
        acknowledged_at=handling.acknowledged_at,
        closed_by=handling.closed_by,
        closed_at=handling.closed_at,
        outcome=handling.outcome,
    )


def list_alerts(db: Session, *, limit: int, offset: int, state: str | None = None) -> tuple[list[Alert], int]:
    """Alerts raised (those in ``state``, if given), newest first, with the total count."""
    query = select(AuditEvent, AuditAlert).join(AuditAlert, AuditAlert.event_id == AuditEvent.id)
    if state is not None:
        query = query.where(AuditAlert.state == state)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    return [_alert(event, handling) for event, handling in rows], total


def get_alert(db: Session, event_id: int, *, for_update: bool = False) -> Alert | None:
    """One alert by its ``audit:alert:raised`` event id; None when there is none."""
    handling = db.get(AuditAlert, event_id, with_for_update=for_update)
    event = db.get(AuditEvent, event_id) if handling else None
    return _alert(event, handling) if event and handling else None
