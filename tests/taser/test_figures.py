"""Figures of Taser use on both databases: a synthetic financial year whose totals are known, the
Home Office return that must add up, suppression in what is shared outside the force, rates per
1,000 people, coverage, and who reads what."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.db import transaction
from openbwv.errors import InvalidInput
from openbwv.footage.models import Clip
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM, Role
from openbwv.taser import figures, home_office, population
from openbwv.taser.figures_schemas import PopulationIn
from openbwv.taser.models import ClipLink, Deployment
from openbwv.taser.suppression import Sum, suppress
from openbwv.taser.vocabulary import LEVELS
from tests.builders import headers_for, make_officer, make_unit

FIGURES = "/api/v1/taser/figures"
CSV_URL = f"{FIGURES}/home-office.csv"
HTML = {"Accept": "text/html"}

# The synthetic financial year 2025/26: how many uses reached each highest level.
KNOWN = {
    "drawn": 14,
    "aimed": 6,
    "red_dot": 32,
    "arced": 3,
    "drive_stun": 2,
    "fired": 9,
    "angled_drive_stun": 1,
    "not_stated": 5,
}
KNOWN_COLUMNS = {
    "Total": 72,
    "Total non-discharge": 55,
    "Drawn": 14,
    "Aimed": 6,
    "Red-dot": 32,
    "Arced": 3,
    "Total discharge": 12,
    "Drive stun": 2,
    "Fired": 9,
    "Angled drive stun": 1,
    "Not stated": 5,
}
FIRST_MOMENT = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
LAST_MOMENT = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)


def _use(
    db: Session,
    officer: Officer,
    at: datetime,
    level: str,
    *,
    ethnicity: str | None = "white",
    assaulted: bool = False,
    status: str = "submitted",
) -> Deployment:
    """A report row as filing leaves it, written directly: a year of reports filed one by one
    would spend the test's time on the filing rules, tested elsewhere."""
    deployment = Deployment(
        officer_id=officer.id,
        taser_serial=f"TS-{officer.collar_number}",
        occurred_at=at,
        lat=52.4862,
        lon=-1.8904,
        location_type="street",
        incident_number="INC-1",
        levels=[level] if level in LEVELS else [],
        highest_level=level,
        cartridges_discharged=1 if level == "fired" else 0,
        cartridge_bays=[1] if level == "fired" else [],
        reasons=["protect_self"],
        impact_factors=[],
        subject_ethnicity=ethnicity,
        subject_injured=False,
        subject_medical_attention=False,
        officer_injured=False,
        officer_medical_attention=False,
        officer_assaulted=assaulted,
        outcome="arrested",
        status=status,
        filed_by="sergeant",
        created_at=at,
    )
    db.add(deployment)
    db.flush()
    return deployment


def _link_footage(db: Session, deployment: Deployment) -> None:
    sha = uuid.uuid4().hex * 2
    clip = Clip(
        sha256=sha,
        size=1000,
        storage_key=f"clips/{sha}",
        camera_serial="CAM-1",
        officer_id=deployment.officer_id,
        recorded_at=deployment.occurred_at,
    )
    db.add(clip)
    db.flush()
    db.add(
        ClipLink(
            deployment_id=deployment.id, clip_id=clip.id, reason="own_camera", linked_at=clip.recorded_at
        )
    )
    db.flush()


def _synthetic_year(db: Session) -> tuple[Officer, Officer]:
    """The ``KNOWN`` uses spread over April 2025 to March 2026, the first at the year's first
    second and the last at its last; one use just before it and one just after, by two officers of
    two units."""
    response = make_unit(db, code="RESP-N", name="Response North")
    traffic = make_unit(db, code="TRAF", name="Traffic")
    first = make_officer(db, collar="7101", name="Alex Carter", unit=response)
    second = make_officer(db, collar="7102", name="Jo Singh", unit=traffic)
    levels = [level for level, count in KNOWN.items() for _ in range(count)]
    for index, level in enumerate(levels):
        month = 4 + index % 12
        at = datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 10, 12, 0, tzinfo=UTC)
        if index == 0:
            at = FIRST_MOMENT
        elif index == len(levels) - 1:
            at = LAST_MOMENT
        _use(db, first if index % 3 else second, at, level, assaulted=index % 8 == 0)
    _use(db, first, FIRST_MOMENT - timedelta(seconds=1), "drawn")
    _use(db, first, LAST_MOMENT + timedelta(seconds=1), "fired")
    return first, second


def _adds_up(row: dict[str, str]) -> None:
    n = {column: int(value) for column, value in row.items() if column in KNOWN_COLUMNS}
    assert n["Total"] == n["Total non-discharge"] + n["Total discharge"] + n["Not stated"]
    assert n["Total non-discharge"] == n["Drawn"] + n["Aimed"] + n["Red-dot"] + n["Arced"]
    assert n["Total discharge"] == n["Drive stun"] + n["Fired"] + n["Angled drive stun"]


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class TestHomeOfficeReturn:
    def test_the_synthetic_year_adds_up_by_column_and_matches_its_known_totals(self, db: Session) -> None:
        _synthetic_year(db)
        rows = home_office.force_rows(db, years=[2025], shared=False, force="Test Police", region="Test")
        assert len(rows) == 1
        assert list(rows[0]) == list(home_office.COLUMNS)
        assert rows[0]["Financial Year"] == "2025/26"
        assert (rows[0]["Region"], rows[0]["Police force"]) == ("Test", "Test Police")
        assert {column: int(rows[0][column]) for column in KNOWN_COLUMNS} == KNOWN_COLUMNS
        _adds_up(rows[0])

    def test_31_march_and_1_april_fall_in_their_own_financial_years(self, db: Session) -> None:
        _synthetic_year(db)
        rows = home_office.force_rows(db, years=[2026, 2024], shared=False, force="F", region="R")
        assert [r["Financial Year"] for r in rows] == ["2024/25", "2026/27"]
        before, after = rows
        assert (before["Total"], before["Drawn"]) == ("1", "1")
        assert (after["Total"], after["Fired"], after["Total discharge"]) == ("1", "1", "1")
        for row in rows:
            _adds_up(row)

    def test_shared_counts_under_five_and_the_count_they_would_give_away_are_suppressed(
        self, db: Session
    ) -> None:
        _synthetic_year(db)
        (row,) = home_office.force_rows(db, years=[2025], shared=True, force="F", region="R")
        hidden = {column for column, value in row.items() if value == "[c]"}
        # Arced (3) alone among the non-discharge levels would be the total less the others: the
        # smallest other, aimed (6), goes too. Drive stun (2) and angled (1) hide each other.
        assert hidden == {"Arced", "Aimed", "Drive stun", "Angled drive stun"}
        assert row["Total"] == "72" and row["Not stated"] == "5" and row["Fired"] == "9"


class TestSuppress:
    def test_a_single_hidden_part_takes_the_smallest_other_with_it(self) -> None:
        cells = {"total": 20, "a": 2, "b": 10, "c": 8, "d": 0}
        shown = suppress(cells, [Sum("total", ["a", "b", "c", "d"])], below=5)
        assert shown == {"total": 20, "a": None, "b": 10, "c": None, "d": 0}

    def test_a_hidden_part_with_no_other_to_hide_hides_the_total(self) -> None:
        shown = suppress({"total": 3, "a": 3, "b": 0}, [Sum("total", ["a", "b"])], below=5)
        assert shown == {"total": None, "a": None, "b": 0}

    def test_zero_is_shown(self) -> None:
        assert suppress({"total": 0, "a": 0}, [Sum("total", ["a"])], below=5) == {"total": 0, "a": 0}


class TestFigures:
    def test_headline_shares_coverage_and_officers_assaulted(self, db: Session) -> None:
        officer = make_officer(db, collar="7201")
        at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
        uses = [
            _use(db, officer, at, "drawn", assaulted=True, status="signed_off"),
            _use(db, officer, at, "red_dot"),
            _use(db, officer, at, "drive_stun"),
            _use(db, officer, at, "fired", assaulted=True),
        ]
        for use in uses[:3]:
            _link_footage(db, use)
        period = figures.Period(date(2026, 5, 1), date(2026, 5, 31))
        head = figures.figures(db, period=period, shared=False).headline
        assert (head.uses, head.non_discharge, head.discharge, head.not_stated) == (4, 2, 2, 0)
        assert (head.share_non_discharge, head.share_not_fired) == (0.5, 0.75)
        assert (head.with_footage, head.coverage_rate) == (3, 0.75)
        assert (head.officers_assaulted, head.share_officers_assaulted, head.signed_off) == (2, 0.5, 1)

    def test_uses_per_month_by_level_and_by_unit(self, db: Session) -> None:
        _synthetic_year(db)
        found = figures.figures(db, period=figures.financial_year(2025), shared=False)
        months = {row.key: row for row in found.by_month.rows}
        assert list(months) == [f"2025-{m:02d}" for m in range(4, 13)] + [f"2026-{m:02d}" for m in (1, 2, 3)]
        assert found.by_month.total == 72
        assert found.by_month.totals == KNOWN
        assert months["2025-04"].counts["drawn"] == 2  # the year's first second and the 13th drawn
        units = {row.key: row for row in found.by_unit.rows}
        assert set(units) == {"RESP-N", "TRAF"}
        assert units["TRAF"].total == 24 and units["RESP-N"].total == 48
        assert found.by_unit.totals == {"non_discharge": 55, "discharge": 12, "not_stated": 5}

    def test_rates_per_1000_come_from_the_population_table(self, db: Session) -> None:
        officer = make_officer(db, collar="7301")
        at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
        for ethnicity, count in {"white": 6, "black": 3, None: 1}.items():
            for _ in range(count):
                _use(db, officer, at, "drawn", ethnicity=ethnicity)
        population.replace_population(
            db,
            SYSTEM,
            PopulationIn.model_validate(
                {
                    "source": "Census 2021",
                    "year": 2021,
                    "rows": [
                        {"area": "Birmingham", "ethnicity": "white", "population": 2000},
                        {"area": "Coventry", "ethnicity": "white", "population": 1000},
                        {"area": "Birmingham", "ethnicity": "black", "population": 500},
                    ],
                }
            ),
        )
        period = figures.Period(date(2026, 6, 1), date(2026, 6, 30))
        rows = {r.ethnicity: r for r in figures.figures(db, period=period, shared=False).by_ethnicity}
        assert (rows["white"].uses, rows["white"].population, rows["white"].rate_per_1000) == (6, 3000, 2.0)
        assert (rows["black"].uses, rows["black"].rate_per_1000) == (3, 6.0)
        assert (rows["not_stated"].uses, rows["not_stated"].rate_per_1000) == (1, None)
        assert (rows["asian"].uses, rows["asian"].population, rows["asian"].rate_per_1000) == (0, None, None)
        assert (rows["total"].uses, rows["total"].population, rows["total"].rate_per_1000) == (10, 3500, 2.86)
        shared = {r.ethnicity: r for r in figures.figures(db, period=period, shared=True).by_ethnicity}
        assert (shared["white"].uses, shared["white"].rate_per_1000) == (6, 2.0)
        assert (shared["black"].uses, shared["black"].rate_per_1000) == (None, None)
        assert (shared["not_stated"].uses, shared["total"].uses) == (None, 10)

    def test_a_population_row_of_an_unknown_group_is_refused(self, db: Session) -> None:
        request = PopulationIn.model_validate(
            {
                "source": "Census",
                "year": 2021,
                "rows": [{"area": "F", "ethnicity": "not_stated", "population": 1}],
            }
        )
        with pytest.raises(InvalidInput) as refused:
            population.replace_population(db, SYSTEM, request)
        assert refused.value.field == "rows.0.ethnicity"


class TestPeriods:
    def test_financial_years_are_read_from_either_form(self) -> None:
        today = date(2026, 11, 26)
        assert figures.parse_financial_year("2025", today=today) == 2025
        assert figures.parse_financial_year("2025/26", today=today) == 2025
        for bad in ("2025/27", "25/26", "2027", "next"):
            with pytest.raises(InvalidInput):
                figures.parse_financial_year(bad, today=today)

    def test_the_default_period_is_the_financial_year_to_date(self) -> None:
        assert figures.period_between(None, None, today=date(2026, 3, 31)) == figures.Period(
            date(2025, 4, 1), date(2026, 3, 31)
        )
        assert figures.period_between(None, None, today=date(2026, 4, 1)).start == date(2026, 4, 1)


def _load_year(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        _synthetic_year(db)


class TestFiguresApi:
    def test_a_supervisor_reads_the_exact_return_and_it_adds_up(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        answer = client.get(
            CSV_URL, params={"financial_year": "2025/26"}, headers=headers_for(factory, Role.SUPERVISOR)
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.text.splitlines()[0] == ",".join(home_office.COLUMNS)
        (row,) = _csv(answer.text)
        assert {column: int(row[column]) for column in KNOWN_COLUMNS} == KNOWN_COLUMNS
        _adds_up(row)

    def test_the_pcc_office_reads_the_return_suppressed_and_without_personal_data(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        pcc = headers_for(factory, Role.PCC_OFFICE)
        answer = client.get(CSV_URL, params={"financial_year": "2025"}, headers=pcc)
        assert answer.status_code == 200, answer.text
        (row,) = _csv(answer.text)
        assert row["Arced"] == "[c]" and row["Total"] == "72"
        figures_json = client.get(FIGURES, params={"from": "2025-04-01", "to": "2026-03-31"}, headers=pcc)
        assert figures_json.status_code == 200
        body = figures_json.json()
        assert body["shared"] is True and body["from"] == "2025-04-01"
        assert body["by_month"]["totals"]["arced"] is None
        for text in (answer.text, figures_json.text):
            assert "7101" not in text and "7102" not in text and "Carter" not in text

    def test_the_pcc_office_is_refused_the_figures_by_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        pcc = client.get(f"{FIGURES}/by-officer", headers=headers_for(factory, Role.PCC_OFFICE))
        assert pcc.status_code == 403
        answer = client.get(
            f"{FIGURES}/by-officer",
            params={"from": "2025-04-01", "to": "2026-03-31"},
            headers=headers_for(factory, Role.PROFESSIONAL_STANDARDS),
        )
        assert answer.status_code == 200
        officers = {o["collar_number"]: o for o in answer.json()["officers"]}
        assert officers["7101"]["uses"] + officers["7102"]["uses"] == 72

    def test_internal_figures_are_exact_unless_the_shared_version_is_asked_for(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        supervisor = headers_for(factory, Role.SUPERVISOR)
        params = {"from": "2025-04-01", "to": "2026-03-31"}
        exact = client.get(FIGURES, params=params, headers=supervisor).json()
        assert exact["shared"] is False and exact["by_month"]["totals"] == KNOWN
        shared = client.get(FIGURES, params={**params, "shared": "true"}, headers=supervisor).json()
        assert shared["shared"] is True and shared["by_month"]["totals"]["arced"] is None

    def test_bad_periods_and_years_are_refused_with_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        supervisor = headers_for(factory, Role.SUPERVISOR)
        assert (
            client.get(
                FIGURES, params={"from": "2026-05-01", "to": "2026-04-01"}, headers=supervisor
            ).status_code
            == 422
        )
        assert client.get(FIGURES, params={"from": "May"}, headers=supervisor).status_code == 422
        assert (
            client.get(CSV_URL, params={"financial_year": "2025/27"}, headers=supervisor).status_code == 422
        )

    def test_professional_standards_load_the_population_table_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = {
            "source": "Census 2021 (ONS)",
            "year": 2021,
            "rows": [
                {"area": "West Midlands", "ethnicity": e, "population": 1000} for e in ("white", "asian")
            ],
        }
        url = "/api/v1/taser/population"
        assert client.put(url, json=body, headers=headers_for(factory, Role.PCC_OFFICE)).status_code == 403
        answer = client.put(url, json=body, headers=headers_for(factory, Role.PROFESSIONAL_STANDARDS))
        assert answer.status_code == 200, answer.text
        assert [(r["area"], r["ethnicity"]) for r in answer.json()] == [
            ("West Midlands", "asian"),
            ("West Midlands", "white"),
        ]
        read = client.get(url, headers=headers_for(factory, Role.PCC_OFFICE)).json()
        assert Counter(r["population"] for r in read) == {1000: 2}
        with transaction(factory) as db:
            events, total = audit.list_events(
                db, where=audit.EventFilter(action="taser:population:replaced"), limit=5, offset=0
            )
        assert total == 1 and events[0].details["population_after"] == 2000


class TestFiguresPage:
    def test_anonymous_is_sent_to_sign_in_and_an_officer_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/taser/figures", headers=HTML, follow_redirects=False).status_code == 303
        officer = {**headers_for(factory, Role.OFFICER), **HTML}
        assert client.get("/taser/figures", headers=officer).status_code == 403

    def test_a_supervisor_sees_the_charts_the_tables_and_the_figures_by_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        headers = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        page = client.get("/taser/figures?from=2025-04-01&to=2026-03-31", headers=headers)
        assert page.status_code == 200
        assert 'id="by-month-chart"' in page.text and 'id="by-unit-chart"' in page.text
        assert 'id="by-officer"' in page.text and 'data-collar="7101"' in page.text
        assert "Taser figures" in page.text and "financial_year=2025%2F26" in page.text
        assert "[c]" not in page.text and "http" not in page.text.split("<main", 1)[1]

    def test_the_pcc_office_sees_suppressed_figures_and_no_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _load_year(factory)
        headers = {**headers_for(factory, Role.PCC_OFFICE), **HTML}
        page = client.get("/taser/figures?from=2025-04-01&to=2026-03-31", headers=headers)
        assert page.status_code == 200
        assert 'id="by-officer"' not in page.text and 'id="suppression-note"' in page.text
        assert "7101" not in page.text and "Carter" not in page.text and "[c]" in page.text
        assert 'aria-current="page">Taser figures</a>' in page.text
