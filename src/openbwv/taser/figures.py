"""Figures of Taser use over a period, for the force, the PCC's office and the Home Office return.

What counts: every filed deployment report, once, in its current version and whatever its review
state (submitted, returned or signed off): a use happened when it was reported, and an edit after
sign-off replaces the report rather than adding a use. A report counts in the period (and the month,
and the financial year) holding its ``occurred_at``, in UTC; the Home Office financial year runs from
1 April to 31 March.

- Each use is counted once, at its highest level. Non-discharge: highest level drawn, aimed, red-dot
  or arced; discharge: drive stun, angled drive stun or fired; not stated: a report with no level the
  vocabulary knows (none is filed that way here; rows brought from another system may be).
- Share non-discharge: non-discharge uses over all uses: no current reached the subject.
- Share drawn but not fired: uses where no cartridge was fired (``fired`` is not among the levels;
  a drive stun counts as not fired) over all uses.
- Coverage rate: uses with at least one clip of footage linked over all uses.
- Officers assaulted: uses whose report says the officer was assaulted.
- By unit: the unit the officer serves in now (the people register keeps no history of postings).
- Rates per 1,000: uses on subjects perceived in a group over the force area's population of that
  group (``taser.population``), times 1,000.

Figures shared outside the force (the PCC's office, anything published) are suppressed as
``taser.suppression`` says; the force's own roles see the exact counts and the figures by officer.
The Home Office return is in ``taser.home_office``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.errors import InvalidInput
from openbwv.policy import Actor, Permission, can
from openbwv.taser import population, settings
from openbwv.taser.models import ClipLink, Deployment, PopulationGroup
from openbwv.taser.suppression import Count, Sum, suppress
from openbwv.taser.vocabulary import DISCHARGE_LEVELS, ETHNICITIES, LEVELS, NON_DISCHARGE_LEVELS

NOT_STATED = "not_stated"
CATEGORIES: tuple[str, ...] = (*LEVELS, NOT_STATED)
"""What a use is counted as: its highest level, or not stated."""
GROUPS: tuple[str, ...] = ("non_discharge", "discharge", NOT_STATED)
TOTAL = "total"
MAX_PERIOD_DAYS = 366 * 10
FINANCIAL_YEAR_START_MONTH = 4
EARLIEST_FINANCIAL_YEAR = 2000
SHARE_DIGITS = 4
RATE_DIGITS = 2


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included, in UTC."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)


def financial_year(start_year: int) -> Period:
    """The financial year starting on 1 April of ``start_year``."""
    return Period(date(start_year, FINANCIAL_YEAR_START_MONTH, 1), date(start_year + 1, 3, 31))


def financial_year_label(start_year: int) -> str:
    """``2025/26`` for the year from April 2025."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year_of(day: date) -> int:
    """The start year of the financial year holding ``day``."""
    return day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1


def parse_financial_year(text: str, *, today: date, field: str = "financial_year") -> int:
    """A financial year given as its start year (``2025``) or its label (``2025/26``, ``2025-26``),
    no later than the one holding ``today``."""
    match = re.fullmatch(r"(\d{4})(?:[/-](\d{2}))?", text.strip())
    if match is None:
        raise InvalidInput(field, f"give a financial year as 2025 or 2025/26, not {text!r}")
    start = int(match.group(1))
    if match.group(2) is not None and int(match.group(2)) != (start + 1) % 100:
        raise InvalidInput(
            field, f"{text!r} is not a financial year: {start}'s is {financial_year_label(start)}"
        )
    latest = financial_year_of(today)
    if not EARLIEST_FINANCIAL_YEAR <= start <= latest:
        raise InvalidInput(
            field,
            f"give a financial year from {financial_year_label(EARLIEST_FINANCIAL_YEAR)} to "
            f"{financial_year_label(latest)}, not {text!r}",
        )
    return start


def period_between(start: date | None, end: date | None, *, today: date) -> Period:
    """The period from ``start`` to ``end`` (days included); by default the financial year to date."""
    start = start or financial_year(financial_year_of(today)).start
    end = end or today
    if end < start:
        raise InvalidInput("to", f"the period ends ({end}) before it starts ({start})")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("to", f"give a period of at most {MAX_PERIOD_DAYS} days")
    return Period(start, end)


def shares_only(actor: Actor, *, asked: bool = False) -> bool:
    """Whether ``actor`` gets figures as shared outside the force (suppressed): always, unless they
    read the force's exact figures and did not ask for the shared version."""
    return asked or not can(actor, Permission.TASER_FIGURES_READ_INTERNAL)


def suppress_below(db: Session) -> int:
    """Counts from 1 to one below this are suppressed in shared figures (a Taser setting)."""
    return int(settings.setting(db, "suppress_below"))


def category_of(highest_level: str) -> str:
    """The category a use is counted in: its highest level, or not stated."""
    return highest_level if highest_level in LEVELS else NOT_STATED


def group_of(category: str) -> str:
    """``non_discharge``, ``discharge`` or ``not_stated``."""
    if category in NON_DISCHARGE_LEVELS:
        return "non_discharge"
    if category in DISCHARGE_LEVELS:
        return "discharge"
    return NOT_STATED


@dataclass(frozen=True)
class Use:
    """One report as the figures read it."""

    officer_id: int
    occurred_at: datetime
    category: str
    ethnicity: str
    officer_assaulted: bool
    with_footage: bool
    signed_off: bool


def uses_in(db: Session, period: Period) -> list[Use]:
    """Every report of a use in ``period``."""
    linked = exists().where(ClipLink.deployment_id == Deployment.id)
    rows = db.execute(
        select(
            Deployment.officer_id,
            Deployment.occurred_at,
            Deployment.highest_level,
            Deployment.subject_ethnicity,
            Deployment.officer_assaulted,
            Deployment.status,
            linked.label("with_footage"),
        )
        .where(Deployment.occurred_at >= period.since, Deployment.occurred_at < period.until)
        .order_by(Deployment.occurred_at, Deployment.id)
    ).all()
    return [
        Use(
            officer_id=officer_id,
            occurred_at=occurred_at,
            category=category_of(level),
            ethnicity=ethnicity if ethnicity in ETHNICITIES else NOT_STATED,
            officer_assaulted=bool(assaulted),
            with_footage=bool(footage),
            signed_off=status == "signed_off",
        )
        for officer_id, occurred_at, level, ethnicity, assaulted, status, footage in rows
    ]


@dataclass(frozen=True)
class TableRow:
    key: str
    label: str
    counts: dict[str, Count]
    total: Count


@dataclass(frozen=True)
class CountTable:
    """Counts by row and column, with each row's total, each column's total and the grand total."""

    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    totals: dict[str, Count]
    total: Count


def count_table(
    rows: Sequence[tuple[str, str]],
    columns: Sequence[str],
    counts: Counter[tuple[str, str]],
    *,
    below: int | None,
) -> CountTable:
    """A table of ``counts`` by (row key, column) for ``rows`` (key, label) and ``columns``, its
    totals added; suppressed as shared figures are when ``below`` is given."""
    cells: dict[tuple[str, str], int] = {}
    for key, _ in rows:
        for column in columns:
            cells[key, column] = counts[key, column]
        cells[key, TOTAL] = sum(counts[key, column] for column in columns)
    for column in (*columns, TOTAL):
        cells[TOTAL, column] = sum(cells[key, column] for key, _ in rows)
    keys = [key for key, _ in rows]
    sums = [Sum((key, TOTAL), [(key, c) for c in columns]) for key in (*keys, TOTAL)]
    sums += [Sum((TOTAL, c), [(k, c) for k in keys]) for c in (*columns, TOTAL)]
    shown_cells: dict[tuple[str, str], Count] = (
        dict(cells) if below is None else suppress(cells, sums, below=below)
    )
    return CountTable(
        columns=tuple(columns),
        rows=tuple(
            TableRow(key, label, {c: shown_cells[key, c] for c in columns}, shown_cells[key, TOTAL])
            for key, label in rows
        ),
        totals={c: shown_cells[TOTAL, c] for c in columns},
        total=shown_cells[TOTAL, TOTAL],
    )


@dataclass(frozen=True)
class Headline:
    uses: Count
    signed_off: Count
    non_discharge: Count
    discharge: Count
    not_stated: Count
    not_fired: Count
    with_footage: Count
    officers_assaulted: Count
    share_non_discharge: float | None
    share_not_fired: float | None
    coverage_rate: float | None
    share_officers_assaulted: float | None


def _share(part: Count, rest: Count) -> float | None:
    """``part`` over ``part + rest``; None when either is hidden or there is nothing to share."""
    if part is None or rest is None or part + rest == 0:
        return None
    return round(part / (part + rest), SHARE_DIGITS)


def headline(uses: Sequence[Use], *, below: int | None) -> Headline:
    """The headline figures of ``uses``; each share is withheld with the count it rests on."""
    groups = Counter(group_of(u.category) for u in uses)
    fired = sum(u.category == "fired" for u in uses)
    with_footage = sum(u.with_footage for u in uses)
    assaulted = sum(u.officer_assaulted for u in uses)
    signed_off = sum(u.signed_off for u in uses)
    total = len(uses)
    cells = {
        "uses": total,
        **{group: groups[group] for group in GROUPS},
        "not_fired": total - fired,
        "fired": fired,
        "with_footage": with_footage,
        "without_footage": total - with_footage,
        "assaulted": assaulted,
        "not_assaulted": total - assaulted,
        "signed_off": signed_off,
        "not_signed_off": total - signed_off,
    }
    sums = [
        Sum("uses", GROUPS),
        Sum("uses", ("not_fired", "fired")),
        Sum("uses", ("with_footage", "without_footage")),
        Sum("uses", ("assaulted", "not_assaulted")),
        Sum("uses", ("signed_off", "not_signed_off")),
    ]
    c: dict[str, Count] = dict(cells) if below is None else suppress(cells, sums, below=below)
    discharge, not_stated = c["discharge"], c[NOT_STATED]
    other_uses = None if discharge is None or not_stated is None else discharge + not_stated
    return Headline(
        uses=c["uses"],
        signed_off=c["signed_off"],
        non_discharge=c["non_discharge"],
        discharge=c["discharge"],
        not_stated=c[NOT_STATED],
        not_fired=c["not_fired"],
        with_footage=c["with_footage"],
        officers_assaulted=c["assaulted"],
        share_non_discharge=_share(c["non_discharge"], other_uses),
        share_not_fired=_share(c["not_fired"], c["fired"]),
        coverage_rate=_share(c["with_footage"], c["without_footage"]),
        share_officers_assaulted=_share(c["assaulted"], c["not_assaulted"]),
    )


def months_of(period: Period) -> list[str]:
    """Each month the period touches, as ``YYYY-MM``."""
    months: list[str] = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_label(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def by_month(uses: Iterable[Use], period: Period, *, below: int | None) -> CountTable:
    """Uses per month by highest level."""
    counts = Counter((u.occurred_at.astimezone(UTC).strftime("%Y-%m"), u.category) for u in uses)
    rows = [(month, _month_label(month)) for month in months_of(period)]
    return count_table(rows, CATEGORIES, counts, below=below)


def by_unit(db: Session, uses: Sequence[Use], *, below: int | None) -> CountTable:
    """Uses per unit of the officer (as they serve now): non-discharge, discharge, not stated."""
    officers = people.officers_by_ids(db, {u.officer_id for u in uses})
    units: dict[str, str] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for use in uses:
        officer = officers.get(use.officer_id)
        code, name = (officer.unit.code, officer.unit.name) if officer is not None else ("", "Unknown")
        units[code] = name
        counts[code, group_of(use.category)] += 1
    rows = sorted(units.items(), key=lambda unit: (unit[1], unit[0]))
    return count_table(rows, GROUPS, counts, below=below)


@dataclass(frozen=True)
class EthnicityFigure:
    ethnicity: str
    uses: Count
    population: int | None
    rate_per_1000: float | None


def _rate(uses: Count, people_count: int | None) -> float | None:
    if uses is None or not people_count:
        return None
    return round(uses * 1000 / people_count, RATE_DIGITS)


def by_ethnicity(
    uses: Sequence[Use], populations: dict[str, int], *, below: int | None
) -> list[EthnicityFigure]:
    """Uses by the subject's perceived ethnicity (5+1), each group's population and its rate per
    1,000 people; the last row is every use over the whole population."""
    counts = Counter(u.ethnicity for u in uses)
    cells = {**{group: counts[group] for group in ETHNICITIES}, TOTAL: len(uses)}
    shown_counts: dict[str, Count] = (
        dict(cells) if below is None else suppress(cells, [Sum(TOTAL, ETHNICITIES)], below=below)
    )
    rows = [
        EthnicityFigure(
            group,
            shown_counts[group],
            populations.get(group),
            _rate(shown_counts[group], populations.get(group)),
        )
        for group in ETHNICITIES
    ]
    whole = sum(populations.values()) or None
    rows.append(EthnicityFigure(TOTAL, shown_counts[TOTAL], whole, _rate(shown_counts[TOTAL], whole)))
    return rows


@dataclass(frozen=True)
class Figures:
    period: Period
    shared: bool
    suppress_below: int
    headline: Headline
    by_month: CountTable
    by_unit: CountTable
    by_ethnicity: list[EthnicityFigure]
    population_source: str | None


def _population_source(db: Session) -> str | None:
    row = db.execute(select(PopulationGroup.source, PopulationGroup.year).limit(1)).first()
    return None if row is None else f"{row.source} ({row.year})"


def figures(db: Session, *, period: Period, shared: bool) -> Figures:
    """Every figure of the period but those by officer; suppressed as shared outside the force when
    ``shared``."""
    threshold = suppress_below(db)
    below = threshold if shared else None
    uses = uses_in(db, period)
    return Figures(
        period=period,
        shared=shared,
        suppress_below=threshold,
        headline=headline(uses, below=below),
        by_month=by_month(uses, period, below=below),
        by_unit=by_unit(db, uses, below=below),
        by_ethnicity=by_ethnicity(uses, population.population_by_group(db), below=below),
        population_source=_population_source(db),
    )


@dataclass(frozen=True)
class OfficerFigures:
    """One officer's uses in a period: for the force's own eyes only."""

    collar_number: str
    name: str
    unit: str
    uses: int
    non_discharge: int
    discharge: int
    not_stated: int
    with_footage: int
    officers_assaulted: int


def figures_by_officer(db: Session, *, period: Period) -> list[OfficerFigures]:
    """Each officer's uses in the period, most first: exact counts, never shared outside the force."""
    uses = uses_in(db, period)
    officers = people.officers_by_ids(db, {u.officer_id for u in uses})
    mine: dict[int, list[Use]] = {}
    for use in uses:
        mine.setdefault(use.officer_id, []).append(use)
    rows = []
    for officer_id, theirs in mine.items():
        officer = officers.get(officer_id)
        groups = Counter(group_of(u.category) for u in theirs)
        rows.append(
            OfficerFigures(
                collar_number=officer.collar_number if officer else "",
                name=officer.name if officer else "",
                unit=officer.unit.name if officer else "",
                uses=len(theirs),
                non_discharge=groups["non_discharge"],
                discharge=groups["discharge"],
                not_stated=groups[NOT_STATED],
                with_footage=sum(u.with_footage for u in theirs),
                officers_assaulted=sum(u.officer_assaulted for u in theirs),
            )
        )
    return sorted(rows, key=lambda row: (-row.uses, row.collar_number))
