"""The demo force's year of Taser, seeded with the whole demo into a fresh database: about a year of
reports filed under the rules, most with footage, reviewed, the exceptions of each kind, a device log
reconciled, and figures that add up. Dates come from the test's clock."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.config import Settings
from openbwv.db import reading, transaction
from openbwv.demo import seed_demo
from openbwv.footage.models import Clip
from openbwv.policy import Role
from openbwv.storage import open_store
from openbwv.taser import demo as taser_demo
from openbwv.taser import population
from openbwv.taser.models import ClipLink, Deployment, DeploymentVersion, DeviceLogEntry, TaserException
from openbwv.taser.vocabulary import NON_DISCHARGE_LEVELS
from tests.builders import headers_for

FIGURES = "/api/v1/taser/figures"


# The demo runs on SQLite (``make demo``); seeding it takes seconds, so it is seeded once and read by
# every check below.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _deployments(db: Session) -> list[Deployment]:
    return list(db.scalars(select(Deployment).order_by(Deployment.occurred_at)))


def _a_year_of_reports_mostly_non_discharge_with_footage(seeded: sessionmaker[Session]) -> None:
    now = clock.now()
    with reading(seeded) as db:
        reports = _deployments(db)
        linked = set(db.scalars(select(ClipLink.deployment_id)))
    assert 150 <= len(reports) <= 300
    assert reports[0].occurred_at >= now - timedelta(days=366)
    assert reports[0].occurred_at <= now - timedelta(days=330)
    assert reports[-1].occurred_at >= now - timedelta(days=14)
    levels = Counter(r.highest_level for r in reports)
    non_discharge = sum(n for level, n in levels.items() if level in NON_DISCHARGE_LEVELS)
    assert 0.8 <= non_discharge / len(reports) <= 0.93
    assert levels["fired"] > 0 and levels["drive_stun"] > 0
    assert 0.7 <= len(linked) / len(reports) < 0.99
    evenings = sum(r.occurred_at.hour >= 17 or r.occurred_at.hour < 3 for r in reports)
    assert evenings / len(reports) > 0.45


def _reports_are_reviewed_with_one_version_history(seeded: sessionmaker[Session]) -> None:
    with reading(seeded) as db:
        statuses = Counter(r.status for r in _deployments(db))
        versions = list(db.scalars(select(DeploymentVersion)))
        edited = db.get(Deployment, versions[0].deployment_id)
        assert edited is not None and edited.version == 2 and edited.status == "signed_off"
    assert statuses["signed_off"] / sum(statuses.values()) > 0.85
    assert statuses["returned"] >= 1 and statuses["submitted"] >= 1
    assert len(versions) == 1 and versions[0].signed_off_by is not None


def _exceptions_of_each_kind_are_open_and_one_explained(seeded: sessionmaker[Session]) -> None:
    with reading(seeded) as db:
        raised = list(db.scalars(select(TaserException)))
        verdicts = Counter(
            db.scalars(select(DeviceLogEntry.verdict).where(DeviceLogEntry.verdict.is_not(None)))
        )
    still_open = Counter(x.kind for x in raised if x.explained_at is None)
    assert {"no_footage", "unreported_trigger", "time_mismatch"} <= set(still_open)
    assert sum(x.explanation == "camera_failed" for x in raised) == 1
    assert verdicts["spark_test"] >= 15 and verdicts["unreported"] == 2 and verdicts["reported"] >= 3
    mismatches = [x.details["difference_s"] for x in raised if x.kind == "time_mismatch"]
    assert sorted(mismatches) == [11 * 60 + 7, 38 * 60]


def _figures_show_the_year_with_rates(seeded: sessionmaker[Session], client: TestClient) -> None:
    today = clock.today()
    with reading(seeded) as db:
        total = db.scalar(select(func.count()).select_from(Deployment))
        groups = population.population_by_group(db)
    assert groups["white"] > groups["asian"] > groups["black"] > 0
    answer = client.get(
        FIGURES,
        params={"from": (today - timedelta(days=366)).isoformat(), "to": today.isoformat()},
        headers=headers_for(seeded, Role.PROFESSIONAL_STANDARDS),
    )
    assert answer.status_code == 200
    body = answer.json()
    headline = body["headline"]
    assert headline["uses"] == total
    assert 0.7 <= headline["coverage_rate"] < 0.99
    assert 0.8 <= headline["share_non_discharge"] <= 0.93
    rates = {row["ethnicity"]: row["rate_per_1000"] for row in body["by_ethnicity"]}
    assert 0 < rates["white"] < rates["black"] < 1


def _seeding_again_adds_nothing(seeded: sessionmaker[Session], settings: Settings) -> None:
    with transaction(seeded) as db:
        before = db.scalar(select(func.count()).select_from(Clip))
        assert taser_demo.seed_demo_taser(db, open_store(settings), [], now=clock.now()) is None
        assert db.scalar(select(func.count()).select_from(Clip)) == before


def test_the_demo_force_has_a_year_of_taser_use_to_look_into(
    factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    seed_demo(factory, settings, clips=20)
    _a_year_of_reports_mostly_non_discharge_with_footage(factory)
    _reports_are_reviewed_with_one_version_history(factory)
    _exceptions_of_each_kind_are_open_and_one_explained(factory)
    _figures_show_the_year_with_rates(factory, client)
    _seeding_again_adds_nothing(factory, settings)
