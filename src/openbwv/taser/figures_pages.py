"""The Taser figures page: headline figures, charts of uses by month and by unit (SVG drawn on the
server, nothing fetched from elsewhere), rates by ethnicity, and, for the force's own roles, the
figures by officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from openbwv import clock
from openbwv.db import Db
from openbwv.errors import InvalidInput
from openbwv.policy import Actor, Permission, Require, can
from openbwv.taser import figures
from openbwv.taser.suppression import shown
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)

# Okabe-Ito colours, told apart with colour blindness, one per category in order.
PALETTE = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000")
LABELS = {
    "drawn": "Drawn",
    "aimed": "Aimed",
    "red_dot": "Red-dot",
    "arced": "Arced",
    "drive_stun": "Drive stun",
    "angled_drive_stun": "Angled drive stun",
    "fired": "Fired",
    figures.NOT_STATED: "Not stated",
    "non_discharge": "Non-discharge",
    "discharge": "Discharge",
    "asian": "Asian",
    "black": "Black",
    "mixed": "Mixed",
    "white": "White",
    "other": "Other",
    figures.TOTAL: "All",
}
CHART_WIDTH = 640
LABEL_WIDTH = 130
BAR_HEIGHT = 18
BAR_GAP = 6


@dataclass(frozen=True)
class Segment:
    column: str
    count: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: str
    y: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    """A horizontal stacked bar chart of a count table; hidden counts draw no segment."""

    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]
    width: int
    height: int
    label_width: int


def bar_chart(table: figures.CountTable) -> Chart:
    """The table's rows as stacked bars scaled to the largest row."""
    colours = dict(zip(table.columns, PALETTE, strict=False))
    largest = max([sum(c or 0 for c in row.counts.values()) for row in table.rows] + [1])
    scale = (CHART_WIDTH - LABEL_WIDTH - 60) / largest
    bars = []
    for index, row in enumerate(table.rows):
        x = float(LABEL_WIDTH)
        segments = []
        for column in table.columns:
            count = row.counts[column]
            if not count:
                continue
            segments.append(Segment(column, count, x, count * scale, colours[column]))
            x += count * scale
        total = shown(row.total)
        bars.append(Bar(row.label, total, index * (BAR_HEIGHT + BAR_GAP), tuple(segments)))
    legend = tuple((LABELS.get(c, c), colours[c]) for c in table.columns)
    height = max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP)
    return Chart(tuple(bars), legend, CHART_WIDTH, height, LABEL_WIDTH)


def _day(field: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"give a date as YYYY-MM-DD, not {value!r}") from None


@router.get("/taser/figures", response_class=HTMLResponse)
def figures_page(
    request: Request,
    db: Db,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    shared: bool = False,
    actor: Actor = Require(Permission.TASER_FIGURES_READ),
) -> HTMLResponse:
    """Figures of Taser use over a period; the PCC's office sees them as shared outside the force."""
    period = figures.period_between(_day("from", start), _day("to", end), today=clock.now().date())
    shares_only = figures.shares_only(actor, asked=shared)
    found = figures.figures(db, period=period, shared=shares_only)
    by_officer = None if shares_only else figures.figures_by_officer(db, period=period)
    year = figures.financial_year_of(period.start)
    csv_query = {
        "financial_year": figures.financial_year_label(year),
        **({"shared": "true"} if shared else {}),
    }
    context = {
        "title": "Taser figures",
        "f": found,
        "by_officer": by_officer,
        "month_chart": bar_chart(found.by_month),
        "unit_chart": bar_chart(found.by_unit),
        "labels": LABELS,
        "shown": shown,
        "may_read_internal": can(actor, Permission.TASER_FIGURES_READ_INTERNAL),
        "asked_shared": shared,
        "csv_href": f"/api/v1/taser/figures/home-office.csv?{urlencode(csv_query)}",
        "csv_year": figures.financial_year_label(year),
        "form": {"from": period.start.isoformat(), "to": period.end.isoformat()},
    }
    return render(request, "taser/taser_figures.html", context, actor=actor)
