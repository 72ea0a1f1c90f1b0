"""The population of the force's area by ethnicity group, as data the force loads (from a census),
for rates of Taser use per 1,000 people; each load replaces the table and is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.policy import Actor
from openbwv.taser.figures_schemas import PopulationIn
from openbwv.taser.models import PopulationGroup
from openbwv.taser.vocabulary import ETHNICITIES

POPULATION_GROUPS: tuple[str, ...] = tuple(e for e in ETHNICITIES if e != "not_stated")
"""The groups a population is counted in: the 5 of the 5+1, since no one lives as "not stated"."""


def list_population(db: Session) -> list[PopulationGroup]:
    """Every row of the population table, by area and group."""
    rows = db.scalars(select(PopulationGroup).order_by(PopulationGroup.area, PopulationGroup.ethnicity))
    return list(rows)


def population_by_group(db: Session) -> dict[str, int]:
    """The force's population of each group: the sum over its areas (groups with no row are absent)."""
    totals: dict[str, int] = {}
    for row in list_population(db):
        totals[row.ethnicity] = totals.get(row.ethnicity, 0) + row.population
    return totals


def replace_population(
    db: Session, actor: Actor, request: PopulationIn, *, now: datetime | None = None
) -> list[PopulationGroup]:
    """Replace the population table with ``request``'s rows, audited with the totals before and after."""
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(request.rows):
        if row.ethnicity not in POPULATION_GROUPS:
            raise InvalidInput(
                f"rows.{index}.ethnicity",
                f"{row.ethnicity!r} is not one of {', '.join(POPULATION_GROUPS)}",
            )
        key = (row.area.strip(), row.ethnicity)
        if key in seen:
            raise InvalidInput(f"rows.{index}", f"area {key[0]!r} names group {key[1]} twice")
        seen.add(key)
    before = sum(population_by_group(db).values())
    when = now or clock.now()
    db.execute(delete(PopulationGroup))
    rows = [
        PopulationGroup(
            area=row.area.strip(),
            ethnicity=row.ethnicity,
            population=row.population,
            source=request.source.strip(),
            year=request.year,
            updated_by=actor.username,
            updated_at=when,
        )
        for row in request.rows
    ]
    db.add_all(rows)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_POPULATION_REPLACED,
        target=Target("taser_population", request.source.strip()),
        details={
            "source": request.source.strip(),
            "year": request.year,
            "rows": len(rows),
            "areas": len({row.area for row in rows}),
            "population_before": before,
            "population_after": sum(row.population for row in rows),
        },
    )
    return list_population(db)
