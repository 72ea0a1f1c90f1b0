"""Decisions on records: who may read this officer record, this training record, this clip.

Pure, like ``rules``: no database and no web framework here.

A role grants a permission force-wide (a training manager reads every training record). A record
rule grants a permission on some records only, those whose facts match the actor's ("an officer
reads their own training record"). Every such rule is in ``RECORD_RULES``, the one home of
record-level access, and the record-access matrix test gives each rule a user who may and a user
who may not.

Two forms of one decision, so that a single read and a list obey the same rules:

- ``can(actor, permission, record)``: may ``actor`` do ``permission`` on this ``Record``?
- ``scope(actor, permission, kind)``: on which records of ``kind`` may they? ``Scope.everything``
  when a role grants it force-wide, else the facts a record must have (any one ``Condition`` of
  ``Scope.conditions``; none: no record). A service turns it into the WHERE clause of its query
  with ``openbwv.policy.queries.scope_clause``, as Polar scopes its queries to what the caller may see.

The domain that owns a table describes its rows as ``Record`` (``people.officer_record``) and maps
each ``Fact`` to its columns; a record hidden from the actor is not found (404), never refused
(403), so that its existence does not leak.

Adding a kind of record (footage, cases, scrutiny panels): add its ``RecordKind``, the facts its
rules read to ``Record`` and ``Fact`` if they are new, and its rules to ``RECORD_RULES``; the
footage rules below already stand as pure rules over those facts, waiting for the tables:

- "officer sees own footage": the clip's ``officer_id`` is the actor's officer record.
- "evidence manager sees footage of cases they hold": the clip belongs to a case whose holders
  (``holder_user_ids``) include the actor.
- "panel member sees redacted copies shared with them": only a ``redacted`` copy, and only one put
  before their panel (``holder_user_ids``); an unredacted copy is never theirs to see.
- "evidence manager sees footage held for review": a clip attributed to no officer (a camera not in
  the fleet, or one nobody held when it recorded) waits for an evidence manager to review it.
- "supervisor sees their team's footage": the clip's officer serves in a unit the supervisor
  supervises (``Actor.supervised_unit_ids``, added by the footage library).
- "evidence manager sees footage through a grant of access": the actor holds a live grant to view
  the clip (``grantee_user_ids``), made with a stated reason through the access grants.
- "investigator sees footage of cases they hold" and "… through a grant of access": as the evidence
  manager's rules, for detectives and case officers.
- "professional standards see footage through a complaint or conduct grant": as above, but only a
  grant whose reason is a complaint or conduct matter (``conduct_grantee_user_ids``).

The footage domain then builds a ``Record`` for a clip (its officer, the holders of its cases,
whether the copy is redacted), calls ``can`` before a view or an export, and ``scope`` for its
library; the matrix test moves each footage rule's case onto the API.

A rule matches a record's facts against the actor's own (``Actor.officer_id``, ``Actor.user_id``).
A rule that needs a fact about the actor that the sign-in does not carry ("a supervisor sees their
team's footage" needs the units they supervise) gets it added to ``Actor`` by the caller that
resolves the actor, never looked up here: policy reads no database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from openbwv.policy import rules
from openbwv.policy.rules import Actor, Permission, Role


class RecordKind(StrEnum):
    """The kinds of record that rules decide on."""

    FOOTAGE = "footage"
    KIT = "kit"
    OFFICER = "officer"
    TASER_DEPLOYMENT = "taser_deployment"
    TRAINING = "training"


class Fact(StrEnum):
    """A fact about a record that a rule may read; its value is the ``Record`` field of that name."""

    CONDUCT_GRANTEES = "conduct_grantee_user_ids"
    GRANTEES = "grantee_user_ids"
    HELD_FOR_REVIEW = "held_for_review"
    HOLDERS = "holder_user_ids"
    OFFICER = "officer_id"
    REDACTED = "redacted"
    UNIT = "unit_id"


@dataclass(frozen=True)
class Record:
    """One record as the rules see it: its kind, its id (for messages) and the facts rules read."""

    kind: RecordKind
    id: int | str | None = None
    officer_id: int | None = None
    """The officer the record is about or belongs to (an officer record, their kit, their clip)."""
    unit_id: int | None = None
    """The unit that officer serves in."""
    holder_user_ids: frozenset[int] = field(default_factory=frozenset)
    """The users who hold the record or have it shared with them (a case's evidence managers, a
    scrutiny panel's members)."""
    redacted: bool = False
    """Whether this copy has had third parties' faces, plates and audio redacted."""
    held_for_review: bool = False
    """Whether the record waits for someone to review it: a clip from a camera not in the fleet, or
    one nobody held when it recorded, attributed to no officer yet."""
    grantee_user_ids: frozenset[int] = field(default_factory=frozenset)
    """The users holding a live grant of access to view the record (a stated reason and an incident
    number or note, audited)."""
    conduct_grantee_user_ids: frozenset[int] = field(default_factory=frozenset)
    """Those of ``grantee_user_ids`` whose grant's reason is a complaint or conduct matter."""

    def fact(self, name: Fact) -> object:
        return getattr(self, name.value)


Condition = Mapping[Fact, frozenset[object]]
"""Facts a record must have, all of them: each fact's value must be one of the values given (for a
set-valued fact such as ``HOLDERS``, one of its members must be)."""


def _holds(condition: Condition, record: Record) -> bool:
    for name, allowed in condition.items():
        value = record.fact(name)
        if isinstance(value, frozenset):
            if not value & allowed:
                return False
        elif value not in allowed:
            return False
    return True


@dataclass(frozen=True)
class Scope:
    """The records of a kind an actor may act on: every one, or those meeting any one condition."""

    everything: bool = False
    conditions: tuple[Condition, ...] = ()

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.conditions

    def admits(self, record: Record) -> bool:
        """Whether ``record`` is within the scope."""
        return self.everything or any(_holds(c, record) for c in self.conditions)


ALL = Scope(everything=True)
NONE = Scope()


@dataclass(frozen=True)
class RecordRule:
    """Grants ``permission`` on records of ``kind`` whose facts meet the condition ``match`` draws
    from the actor's own facts (None: this actor has no such records, e.g. no officer record).
    ``roles`` limits the rule to holders of one of those roles; empty, it applies to every person
    (never to a device or a job)."""

    name: str
    permission: Permission
    kind: RecordKind
    match: Callable[[Actor], Condition | None]
    roles: frozenset[Role] = frozenset()

    def condition_for(self, actor: Actor) -> Condition | None:
        """The condition this rule grants ``actor``, or None when it grants them nothing."""
        if actor.is_device or actor.user_id is None:
            return None
        if self.roles and not self.roles & actor.roles:
            return None
        return self.match(actor)


def _own_officer(actor: Actor) -> Condition | None:
    return None if actor.officer_id is None else {Fact.OFFICER: frozenset({actor.officer_id})}


def _held_by(actor: Actor) -> Condition | None:
    return None if actor.user_id is None else {Fact.HOLDERS: frozenset({actor.user_id})}


def _supervised_unit(actor: Actor) -> Condition | None:
    units = actor.supervised_unit_ids
    return {Fact.UNIT: frozenset(units)} if units else None


def _granted_to(actor: Actor) -> Condition | None:
    return None if actor.user_id is None else {Fact.GRANTEES: frozenset({actor.user_id})}


def _granted_for_conduct(actor: Actor) -> Condition | None:
    return None if actor.user_id is None else {Fact.CONDUCT_GRANTEES: frozenset({actor.user_id})}


def _held_for_review(actor: Actor) -> Condition:
    return {Fact.HELD_FOR_REVIEW: frozenset({True})}


def _redacted_shared_with(actor: Actor) -> Condition | None:
    held = _held_by(actor)
    return None if held is None else {**held, Fact.REDACTED: frozenset({True})}


RECORD_RULES: tuple[RecordRule, ...] = (
    RecordRule(
        name="officer reads own officer record",
        permission=Permission.PEOPLE_OFFICER_READ,
        kind=RecordKind.OFFICER,
        match=_own_officer,
    ),
    RecordRule(
        name="officer reads own training record",
        permission=Permission.TRAINING_RECORD_READ,
        kind=RecordKind.TRAINING,
        match=_own_officer,
    ),
    RecordRule(
        name="officer reads own kit",
        permission=Permission.FLEET_DEVICE_READ,
        kind=RecordKind.KIT,
        match=_own_officer,
    ),
    RecordRule(
        name="officer reads own Taser deployment reports",
        permission=Permission.TASER_DEPLOYMENT_READ,
        kind=RecordKind.TASER_DEPLOYMENT,
        match=_own_officer,
    ),
    RecordRule(
        name="officer sees own footage",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_own_officer,
    ),
    RecordRule(
        name="supervisor sees their team's footage",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_supervised_unit,
        roles=frozenset({Role.SUPERVISOR}),
    ),
    RecordRule(
        name="evidence manager sees footage of cases they hold",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_held_by,
        roles=frozenset({Role.EVIDENCE_MANAGER}),
    ),
    RecordRule(
        name="evidence manager sees footage held for review",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_held_for_review,
        roles=frozenset({Role.EVIDENCE_MANAGER}),
    ),
    RecordRule(
        name="evidence manager sees footage through a grant of access",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_granted_to,
        roles=frozenset({Role.EVIDENCE_MANAGER}),
    ),
    RecordRule(
        name="investigator sees footage of cases they hold",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_held_by,
        roles=frozenset({Role.INVESTIGATOR}),
    ),
    RecordRule(
        name="investigator sees footage through a grant of access",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_granted_to,
        roles=frozenset({Role.INVESTIGATOR}),
    ),
    RecordRule(
        name="professional standards see footage through a complaint or conduct grant",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_granted_for_conduct,
        roles=frozenset({Role.PROFESSIONAL_STANDARDS}),
    ),
    RecordRule(
        name="panel member sees redacted copies shared with them",
        permission=Permission.FOOTAGE_CLIP_VIEW,
        kind=RecordKind.FOOTAGE,
        match=_redacted_shared_with,
        roles=frozenset({Role.PANEL_MEMBER}),
    ),
)


def scope(actor: Actor, permission: Permission, kind: RecordKind) -> Scope:
    """The records of ``kind`` on which ``actor`` may do ``permission``: all of them when a role
    grants it force-wide, else those the record rules grant."""
    if rules.can(actor, permission):
        return ALL
    granted = (
        rule.condition_for(actor)
        for rule in RECORD_RULES
        if rule.permission == permission and rule.kind == kind
    )
    return Scope(conditions=tuple(c for c in granted if c is not None))


def can(actor: Actor, permission: Permission, record: Record | None = None) -> bool:
    """Whether ``actor`` may do ``permission``: on ``record`` when one is given (through a role, or a
    record rule), else anywhere (through a role: what a route declares with ``Require``)."""
    if record is None:
        return rules.can(actor, permission)
    return scope(actor, permission, record.kind).admits(record)


def rules_granting(actor: Actor, permission: Permission, record: Record) -> list[str]:
    """The names of the record rules that let ``actor`` do ``permission`` on ``record``: why a
    decision went the way it did."""
    return [
        rule.name
        for rule in RECORD_RULES
        if rule.permission == permission
        and rule.kind == record.kind
        and (condition := rule.condition_for(actor)) is not None
        and _holds(condition, record)
    ]
