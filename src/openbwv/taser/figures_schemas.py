"""Figures of Taser use and the population table, in and out of the API.

A count of ``null`` in figures shared outside the force is one suppressed (``taser.suppression``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from openbwv.inputs import Input
from openbwv.taser.models import AREA_LENGTH, CODE_LENGTH, SOURCE_LENGTH

MAX_POPULATION_ROWS = 5000


class PopulationRowIn(Input):
    area: str = Field(min_length=1, max_length=AREA_LENGTH, description="The force, or a district of it.")
    ethnicity: str = Field(max_length=CODE_LENGTH, description="asian, black, mixed, white or other.")
    population: int = Field(ge=0, le=100_000_000)


class PopulationIn(Input):
    """The whole population table, replacing the one held: every area's count of every group."""

    source: str = Field(min_length=1, max_length=SOURCE_LENGTH, description="e.g. Census 2021 (ONS).")
    year: int = Field(ge=1900, le=2200, description="The year the source counted.")
    rows: list[PopulationRowIn] = Field(min_length=1, max_length=MAX_POPULATION_ROWS)


class PopulationRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    area: str
    ethnicity: str
    population: int
    source: str
    year: int
    updated_by: str
    updated_at: datetime


class HeadlineOut(BaseModel):
    uses: int | None
    signed_off: int | None
    non_discharge: int | None
    discharge: int | None
    not_stated: int | None
    not_fired: int | None
    with_footage: int | None
    officers_assaulted: int | None
    share_non_discharge: float | None
    share_not_fired: float | None
    coverage_rate: float | None
    share_officers_assaulted: float | None


class TableRowOut(BaseModel):
    key: str
    label: str
    counts: dict[str, int | None]
    total: int | None


class TableOut(BaseModel):
    columns: list[str]
    rows: list[TableRowOut]
    totals: dict[str, int | None]
    total: int | None


class EthnicityOut(BaseModel):
    ethnicity: str
    uses: int | None
    population: int | None
    rate_per_1000: float | None


class FiguresOut(BaseModel):
    """Figures of Taser use over a period, dates inclusive, in UTC."""

    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    shared: bool = Field(description="Suppressed as the force shares figures outside it.")
    suppress_below: int
    headline: HeadlineOut
    by_month: TableOut
    by_unit: TableOut
    by_ethnicity: list[EthnicityOut]
    population_source: str | None


class OfficerFiguresOut(BaseModel):
    collar_number: str
    name: str
    unit: str
    uses: int
    non_discharge: int
    discharge: int
    not_stated: int
    with_footage: int
    officers_assaulted: int


class OfficerFiguresPage(BaseModel):
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    officers: list[OfficerFiguresOut]
