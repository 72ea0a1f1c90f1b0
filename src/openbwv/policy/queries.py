"""A ``Scope`` as the WHERE clause of a query: lists obey the same record rules as single reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from openbwv.policy.records import Fact, Scope

FactTest = Callable[[frozenset[Any]], ColumnElement[bool]]
"""The SQL test that a row's fact takes one of the given values."""


def is_in(column: Any) -> FactTest:
    """The fact is this column: a row meets it when the column holds one of the values."""

    def test(values: frozenset[Any]) -> ColumnElement[bool]:
        if not values:
            return false()
        if len(values) == 1:
            return column == next(iter(values))
        return column.in_(sorted(values))

    return test


def scope_clause(scope: Scope, facts: Mapping[Fact, FactTest]) -> ColumnElement[bool]:
    """The clause a query adds to keep only the rows within ``scope``; ``facts`` says how each fact
    a rule may read is found in the query's tables (a fact it lacks is a programming error)."""
    if scope.everything:
        return true()
    clauses = []
    for condition in scope.conditions:
        missing = set(condition) - set(facts)
        if missing:
            raise ValueError(f"the query cannot test {', '.join(sorted(missing))}")
        clauses.append(and_(true(), *(facts[name](values) for name, values in condition.items())))
    return or_(false(), *clauses)
