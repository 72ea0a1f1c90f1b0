"""The Home Office table of CED (Taser) use by police force: the force's rows, one a financial year,
counted as ``taser.figures`` counts uses, suppressed as ``taser.suppression`` says when shared."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv.spreadsheet import to_csv
from openbwv.taser import figures
from openbwv.taser.models import Deployment
from openbwv.taser.suppression import Count, Sum, shown, suppress
from openbwv.taser.vocabulary import DISCHARGE_LEVELS, NON_DISCHARGE_LEVELS

COLUMNS: tuple[str, ...] = (
    "Financial Year",
    "Region",
    "Police force",
    "Total",
    "Total non-discharge",
    "Drawn",
    "Aimed",
    "Red-dot",
    "Arced",
    "Total discharge",
    "Drive stun",
    "Fired",
    "Angled drive stun",
    "Not stated",
)
"""The columns of the Home Office table of CED (Taser) use by police force."""
_COUNTED: dict[str, str] = {
    "Drawn": "drawn",
    "Aimed": "aimed",
    "Red-dot": "red_dot",
    "Arced": "arced",
    "Drive stun": "drive_stun",
    "Fired": "fired",
    "Angled drive stun": "angled_drive_stun",
    "Not stated": figures.NOT_STATED,
}
_SUMS: tuple[Sum[str], ...] = (
    Sum("Total", ("Total non-discharge", "Total discharge", "Not stated")),
    Sum("Total non-discharge", ("Drawn", "Aimed", "Red-dot", "Arced")),
    Sum("Total discharge", ("Drive stun", "Fired", "Angled drive stun")),
)


def _category_counts(db: Session, period: figures.Period) -> Counter[str]:
    rows = db.execute(
        select(Deployment.highest_level, func.count())
        .where(Deployment.occurred_at >= period.since, Deployment.occurred_at < period.until)
        .group_by(Deployment.highest_level)
    ).all()
    counts: Counter[str] = Counter()
    for level, count in rows:
        counts[figures.category_of(level)] += count
    return counts


def force_rows(
    db: Session, *, years: Sequence[int], shared: bool, force: str, region: str
) -> list[dict[str, str]]:
    """The force's rows of the Home Office table of CED use, one per financial year, in its columns;
    Total = Total non-discharge + Total discharge + Not stated in each. Suppressed when ``shared``."""
    below = figures.suppress_below(db) if shared else None
    rows = []
    for year in sorted(set(years)):
        counts = _category_counts(db, figures.financial_year(year))
        cells = {column: counts[category] for column, category in _COUNTED.items()}
        cells["Total non-discharge"] = sum(counts[level] for level in NON_DISCHARGE_LEVELS)
        cells["Total discharge"] = sum(counts[level] for level in DISCHARGE_LEVELS)
        cells["Total"] = sum(counts.values())
        shown_cells: dict[str, Count] = dict(cells) if below is None else suppress(cells, _SUMS, below=below)
        rows.append(
            {
                "Financial Year": figures.financial_year_label(year),
                "Region": region,
                "Police force": force,
                **{column: shown(shown_cells[column]) for column in COLUMNS[3:]},
            }
        )
    return rows


def as_csv(rows: Sequence[dict[str, str]]) -> str:
    """The rows as CSV with the Home Office table's header, every cell escaped for spreadsheets."""
    return to_csv(COLUMNS, ([row[column] for column in COLUMNS] for row in rows))
