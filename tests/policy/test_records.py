"""Decisions on records and their scopes (pure), and a scope as a query's WHERE clause (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.people.models import Officer
from openbwv.policy import (
    SYSTEM,
    Actor,
    Fact,
    Permission,
    Record,
    RecordKind,
    Role,
    Scope,
    can,
    device_actor,
    rules_granting,
    scope,
    scope_clause,
)
from openbwv.policy.records import ALL, NONE
from tests.builders import make_officer, make_unit

OFFICER = Actor(username="pc", roles=frozenset({Role.OFFICER}), user_id=1, officer_id=7)


def _officer_record(officer_id: int, unit_id: int = 1) -> Record:
    return Record(kind=RecordKind.OFFICER, officer_id=officer_id, unit_id=unit_id)


class TestCan:
    def test_without_a_record_only_roles_decide(self) -> None:
        assert not can(OFFICER, Permission.PEOPLE_OFFICER_READ)
        assert can(OFFICER, Permission.SELF_READ)

    def test_a_role_granting_the_permission_reaches_every_record(self) -> None:
        supervisor = Actor(username="sgt", roles=frozenset({Role.SUPERVISOR}), user_id=2)
        assert can(supervisor, Permission.PEOPLE_OFFICER_READ, _officer_record(99))

    def test_a_rule_reaches_only_the_records_whose_facts_match(self) -> None:
        assert can(OFFICER, Permission.PEOPLE_OFFICER_READ, _officer_record(7))
        assert not can(OFFICER, Permission.PEOPLE_OFFICER_READ, _officer_record(8))

    def test_a_rule_grants_only_its_own_permission_on_its_own_kind(self) -> None:
        own_kit = Record(kind=RecordKind.KIT, officer_id=7)
        assert can(OFFICER, Permission.FLEET_DEVICE_READ, own_kit)
        assert not can(OFFICER, Permission.FLEET_DEVICE_WRITE, own_kit)
        assert not can(OFFICER, Permission.FLEET_DEVICE_READ, _officer_record(7))

    def test_a_device_and_a_job_get_nothing_from_record_rules(self) -> None:
        device = device_actor("CAM1", frozenset())
        for actor in (device, SYSTEM):
            assert scope(actor, Permission.PEOPLE_OFFICER_READ, RecordKind.OFFICER).nothing


class TestScope:
    def test_an_actor_without_an_officer_record_sees_none_of_the_own_records(self) -> None:
        panel = Actor(username="panel", roles=frozenset({Role.PANEL_MEMBER}), user_id=3)
        assert scope(panel, Permission.TRAINING_RECORD_READ, RecordKind.TRAINING) == NONE

    def test_conditions_need_every_fact_and_any_condition(self) -> None:
        both = Scope(conditions=({Fact.OFFICER: frozenset({7}), Fact.UNIT: frozenset({1})},))
        assert both.admits(_officer_record(7, unit_id=1))
        assert not both.admits(_officer_record(7, unit_id=2))
        either = Scope(conditions=({Fact.OFFICER: frozenset({7})}, {Fact.UNIT: frozenset({2})}))
        assert either.admits(_officer_record(8, unit_id=2))
        assert not either.admits(_officer_record(8, unit_id=3))

    def test_a_set_valued_fact_needs_one_member_in_common(self) -> None:
        held = Scope(conditions=({Fact.HOLDERS: frozenset({5, 6})},))
        assert held.admits(Record(kind=RecordKind.FOOTAGE, holder_user_ids=frozenset({6, 9})))
        assert not held.admits(Record(kind=RecordKind.FOOTAGE, holder_user_ids=frozenset({9})))
        assert not held.admits(Record(kind=RecordKind.FOOTAGE))


class TestScopeClause:
    def _visible(self, db: Session, visible: Scope) -> list[str]:
        query = select(Officer.collar_number).where(scope_clause(visible, people.OFFICER_FACTS))
        return sorted(db.scalars(query.order_by(Officer.collar_number)))

    def test_a_scope_selects_the_rows_it_admits(self, db: Session) -> None:
        north, south, east = make_unit(db, code="N1"), make_unit(db, code="S1"), make_unit(db, code="E1")
        a = make_officer(db, collar="8001", unit=north)
        make_officer(db, collar="8002", unit=north)
        make_officer(db, collar="8003", unit=south)
        make_officer(db, collar="8004", unit=east)
        db.flush()
        own_or_units = Scope(
            conditions=({Fact.OFFICER: frozenset({a.id})}, {Fact.UNIT: frozenset({south.id, east.id})})
        )
        assert self._visible(db, own_or_units) == ["8001", "8003", "8004"]
        assert self._visible(db, ALL) == ["8001", "8002", "8003", "8004"]
        assert self._visible(db, NONE) == []

    def test_a_fact_the_query_cannot_test_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="holder_user_ids"):
            scope_clause(Scope(conditions=({Fact.HOLDERS: frozenset({1})},)), people.OFFICER_FACTS)


class TestWhoRecordRulesApplyTo:
    def test_an_actor_without_a_user_id_gets_nothing_from_a_record_rule(self) -> None:
        """A job acting for the system is no person, even if it carries an officer id."""
        job = Actor(username="job", officer_id=7)
        own_training = Record(kind=RecordKind.TRAINING, officer_id=7)
        assert not can(job, Permission.TRAINING_RECORD_READ, own_training)
        assert can(OFFICER, Permission.TRAINING_RECORD_READ, own_training)

    def test_a_rule_is_named_only_for_its_own_permission_and_kind(self) -> None:
        own_training = Record(kind=RecordKind.TRAINING, officer_id=7)
        assert rules_granting(OFFICER, Permission.PEOPLE_OFFICER_READ, own_training) == []
        assert rules_granting(OFFICER, Permission.TRAINING_RECORD_READ, own_training) == [
            "officer reads own training record"
        ]
