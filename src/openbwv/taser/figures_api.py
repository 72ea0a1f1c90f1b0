"""Figures of Taser use over JSON and CSV: the figures of a period, the figures by officer (the
force's own roles only), the Home Office return, and the population table rates are read against."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from openbwv import clock
from openbwv.config import Settings
from openbwv.db import Db
from openbwv.errors import API_ERRORS
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import figures, home_office, population
from openbwv.taser.figures_schemas import (
    EthnicityOut,
    FiguresOut,
    HeadlineOut,
    OfficerFiguresOut,
    OfficerFiguresPage,
    PopulationIn,
    PopulationRowOut,
    TableOut,
    TableRowOut,
)

router = APIRouter(prefix="/api/v1/taser", tags=["taser"], responses=API_ERRORS)

MAX_YEARS = 20
FromDate = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD (UTC).")]
ToDate = Annotated[date | None, Query(alias="to", description="Last day, YYYY-MM-DD (UTC), included.")]
Shared = Annotated[
    bool, Query(description="The figures as shared outside the force (always so for the PCC's office).")
]


def _table_out(table: figures.CountTable) -> TableOut:
    return TableOut(
        columns=list(table.columns),
        rows=[TableRowOut(key=r.key, label=r.label, counts=r.counts, total=r.total) for r in table.rows],
        totals=table.totals,
        total=table.total,
    )


def figures_out(found: figures.Figures) -> FiguresOut:
    """The figures as the API serves them."""
    return FiguresOut(
        from_date=found.period.start,
        to_date=found.period.end,
        shared=found.shared,
        suppress_below=found.suppress_below,
        headline=HeadlineOut(**vars(found.headline)),
        by_month=_table_out(found.by_month),
        by_unit=_table_out(found.by_unit),
        by_ethnicity=[EthnicityOut(**vars(row)) for row in found.by_ethnicity],
        population_source=found.population_source,
    )


@router.get("/figures", response_model=FiguresOut)
def get_figures(
    db: Db,
    start: FromDate = None,
    end: ToDate = None,
    shared: Shared = False,
    actor: Actor = Require(Permission.TASER_FIGURES_READ),
) -> FiguresOut:
    """Figures of Taser use over a period (by default the financial year to date): headline figures,
    uses per month by level, by unit, by subject ethnicity with rates per 1,000 people. Counts the
    PCC's office reads are suppressed (``null``)."""
    period = figures.period_between(start, end, today=clock.now().date())
    found = figures.figures(db, period=period, shared=figures.shares_only(actor, asked=shared))
    return figures_out(found)


@router.get("/figures/by-officer", response_model=OfficerFiguresPage)
def get_figures_by_officer(
    db: Db,
    start: FromDate = None,
    end: ToDate = None,
    actor: Actor = Require(Permission.TASER_FIGURES_READ_INTERNAL),
) -> OfficerFiguresPage:
    """Each officer's uses over a period, most first: for the force's own roles, never shared."""
    period = figures.period_between(start, end, today=clock.now().date())
    rows = figures.figures_by_officer(db, period=period)
    return OfficerFiguresPage(
        from_date=period.start, to_date=period.end, officers=[OfficerFiguresOut(**vars(r)) for r in rows]
    )


@router.get("/figures/home-office.csv", response_class=Response)
def get_home_office_return(
    request: Request,
    db: Db,
    financial_year: Annotated[
        list[str] | None,
        Query(
            max_length=MAX_YEARS,
            description="Financial years as 2025 or 2025/26, repeated for more rows; by default the "
            "current one.",
        ),
    ] = None,
    shared: Shared = False,
    actor: Actor = Require(Permission.TASER_FIGURES_READ),
) -> Response:
    """The force's rows of the Home Office table of CED (Taser) use by police force, as CSV: one a
    financial year, Total = Total non-discharge + Total discharge + Not stated. No personal data."""
    today = clock.now().date()
    years = [figures.parse_financial_year(text, today=today) for text in financial_year or []]
    years = years or [figures.financial_year_of(today)]
    settings: Settings = request.app.state.settings
    rows = home_office.force_rows(
        db,
        years=years,
        shared=figures.shares_only(actor, asked=shared),
        force=settings.force_name,
        region=settings.force_region,
    )
    name = "-".join(figures.financial_year_label(y).replace("/", "-") for y in sorted(set(years)))
    return Response(
        home_office.as_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="taser-ced-use-{name}.csv"'},
    )


@router.get("/population", response_model=list[PopulationRowOut])
def list_population(db: Db, actor: Actor = Require(Permission.TASER_FIGURES_READ)) -> list[PopulationRowOut]:
    """The population of each ethnicity group by area that rates per 1,000 people are read against."""
    return [PopulationRowOut.model_validate(row) for row in population.list_population(db)]


@router.put("/population", response_model=list[PopulationRowOut])
def replace_population(
    body: PopulationIn, db: Db, actor: Actor = Require(Permission.TASER_POPULATION_WRITE)
) -> list[PopulationRowOut]:
    """Replace the population table (every area's count of every group, from one source); audited."""
    rows = population.replace_population(db, actor, body)
    return [PopulationRowOut.model_validate(row) for row in rows]
