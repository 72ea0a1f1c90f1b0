"""Searching the footage library: each filter, places, keyset paging, the capped count, refusals,
record scope and the audit of every search; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import auth, fleet, people
from openbwv.cli import build_cli
from openbwv.db import transaction
from openbwv.errors import InvalidInput
from openbwv.footage import place, retention, search
from openbwv.footage.models import Clip, ClipPlace, FootageCategory
from openbwv.footage.place import COLUMNS, cell_of, cell_ranges, thin, track_points
from openbwv.footage.search import Circle, ClipFilters, search_clips
from openbwv.people.models import Officer, Unit
from openbwv.policy import SYSTEM, Actor, Role
from tests.builders import headers_for, make_device, make_officer, make_unit, make_user
from tests.conftest import ON_POSTGRES_ONLY
from tests.footage.helpers import RECORDED_AT, events

_numbers = itertools.count(1)
# Lloyd House, Birmingham, and a point 1 km north of it.
CENTRE = (52.4862, -1.8904)
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE, point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / METRES_PER_DEGREE / math.cos(math.radians(point[0]))


def walk(start: tuple[float, float], end: tuple[float, float], fixes: int = 60) -> list[list[float]]:
    """A track from ``start`` to ``end`` in ``fixes`` even steps, one a second."""
    return [
        [
            float(n),
            start[0] + (end[0] - start[0]) * n / (fixes - 1),
            start[1] + (end[1] - start[1]) * n / (fixes - 1),
        ]
        for n in range(fixes)
    ]


def make_clip(
    db: Session,
    *,
    officer: Officer | None,
    at: datetime = RECORDED_AT,
    camera_serial: str = "CAM-SEARCH",
    gps_track: list[list[Any]] | None = None,
    **fields: Any,
) -> Clip:
    """A clip row (no bytes) with its place indexed."""
    sha = hashlib.sha256(f"search-{next(_numbers)}".encode()).hexdigest()
    clip = Clip(
        sha256=sha,
        size=1,
        storage_key=f"clips/{sha}",
        camera_serial=camera_serial,
        officer_id=officer.id if officer is not None else None,
        recorded_at=at,
        ingest_state=fields.pop("ingest_state", "ready"),
        gps_track=gps_track,
        **fields,
    )
    db.add(clip)
    db.flush()
    search.index_place(db, clip)
    return clip


def actor_of(db: Session, role: Role, officer: Officer | None = None) -> Actor:
    return auth.actor_for(make_user(db, roles=[role], officer=officer))


@dataclass
class Team:
    unit: Unit
    alice: Officer
    bob: Officer
    carol: Officer
    """Of another unit."""
    supervisor: Actor
    """A sergeant of ``unit``: sees Alice's and Bob's clips."""


@pytest.fixture
def team(db: Session) -> Team:
    return make_team(db)


def make_team(db: Session) -> Team:
    unit = make_unit(db, code="NPTA")
    other = make_unit(db, code="NPTB")
    alice = make_officer(db, collar="8001", unit=unit)
    bob = make_officer(db, collar="8002", unit=unit)
    carol = make_officer(db, collar="8003", unit=other)
    sergeant = make_officer(db, collar="8004", rank="sergeant", unit=unit)
    return Team(unit, alice, bob, carol, actor_of(db, Role.SUPERVISOR, sergeant))


def found(db: Session, actor: Actor, **filters: Any) -> list[int]:
    return [v.clip.id for v in search_clips(db, actor, ClipFilters(**filters), limit=500).items]


def category_id(db: Session, code: str) -> int:
    found_id = db.scalar(select(FootageCategory.id).where(FootageCategory.code == code))
    assert found_id is not None
    return found_id


class TestFilters:
    def test_collar_number_finds_that_officers_clips_and_an_unknown_one_finds_nothing(
        self, db: Session, team: Team
    ) -> None:
        mine = make_clip(db, officer=team.alice)
        make_clip(db, officer=team.bob)
        assert found(db, team.supervisor, collar_number=" 8001 ") == [mine.id]
        assert found(db, team.supervisor, collar_number="9999") == []

    def test_unit_finds_its_officers_clips_and_an_unknown_unit_is_refused(
        self, db: Session, team: Team
    ) -> None:
        a = make_clip(db, officer=team.alice, at=RECORDED_AT)
        b = make_clip(db, officer=team.bob, at=RECORDED_AT - timedelta(minutes=1))
        assert found(db, team.supervisor, unit="npta") == [a.id, b.id]
        assert found(db, team.supervisor, unit="NPTB") == []
        with pytest.raises(InvalidInput) as refused:
            found(db, team.supervisor, unit="NOPE")
        assert refused.value.field == "unit"

    def test_camera_serial(self, db: Session, team: Team) -> None:
        a = make_clip(db, officer=team.alice, camera_serial="CAM-A")
        make_clip(db, officer=team.alice, camera_serial="CAM-B")
        assert found(db, team.supervisor, camera_serial="cam-a") == [a.id]

    def test_a_time_window_includes_both_ends(self, db: Session, team: Team) -> None:
        times = [RECORDED_AT - timedelta(hours=h) for h in range(4)]
        clips = [make_clip(db, officer=team.alice, at=t) for t in times]
        window = {"recorded_from": times[2], "recorded_to": times[1]}
        assert found(db, team.supervisor, **window) == [clips[1].id, clips[2].id]
        assert found(db, team.supervisor, recorded_from=times[0]) == [clips[0].id]

    def test_a_time_without_a_zone_is_utc(self, db: Session, team: Team) -> None:
        clip = make_clip(db, officer=team.alice)
        naive = RECORDED_AT.replace(tzinfo=None)
        assert found(db, team.supervisor, recorded_from=naive, recorded_to=naive) == [clip.id]

    def test_category_by_code_or_untagged(self, db: Session, team: Team) -> None:
        tagged = make_clip(db, officer=team.alice, category_id=category_id(db, "use_of_force"))
        untagged = make_clip(db, officer=team.alice, at=RECORDED_AT - timedelta(minutes=1))
        make_clip(db, officer=team.alice, category_id=category_id(db, "incident"))
        assert found(db, team.supervisor, category="use_of_force") == [tagged.id]
        assert found(db, team.supervisor, category="untagged") == [untagged.id]
        with pytest.raises(InvalidInput) as refused:
            found(db, team.supervisor, category="nonsense")
        assert refused.value.field == "category"

    def test_evidence_flag_and_legal_hold(self, db: Session, team: Team) -> None:
        flagged = make_clip(db, officer=team.alice, evidence_flag=True)
        held = make_clip(db, officer=team.alice, legal_hold=True, at=RECORDED_AT - timedelta(minutes=1))
        plain = make_clip(db, officer=team.alice, at=RECORDED_AT - timedelta(minutes=2))
        assert found(db, team.supervisor, evidence=True) == [flagged.id]
        assert found(db, team.supervisor, evidence=False) == [held.id, plain.id]
        assert found(db, team.supervisor, hold=True) == [held.id]
        assert found(db, team.supervisor, hold=False) == [flagged.id, plain.id]
        assert found(db, team.supervisor, evidence=True, hold=True) == []

    def test_incident_matches_the_incident_number_or_the_case_reference(
        self, db: Session, team: Team
    ) -> None:
        by_number = make_clip(db, officer=team.alice, incident_number="INC-1")
        by_case = make_clip(
            db, officer=team.bob, case_reference="INC-1", at=RECORDED_AT - timedelta(minutes=1)
        )
        make_clip(db, officer=team.alice, incident_number="INC-2")
        assert found(db, team.supervisor, incident=" INC-1 ") == [by_number.id, by_case.id]

    def test_ingest_state(self, db: Session, team: Team) -> None:
        failed = make_clip(db, officer=team.alice, ingest_state="failed")
        make_clip(db, officer=team.alice)
        assert found(db, team.supervisor, ingest_state="failed") == [failed.id]

    def test_sha256_ignores_case(self, db: Session, team: Team) -> None:
        clip = make_clip(db, officer=team.alice)
        make_clip(db, officer=team.alice)
        assert found(db, team.supervisor, sha256=clip.sha256.upper()) == [clip.id]

    def test_deleted_clips_are_hidden(self, db: Session, team: Team) -> None:
        kept = make_clip(db, officer=team.alice)
        make_clip(db, officer=team.alice, deleted_at=RECORDED_AT, evidence_flag=True)
        assert found(db, team.supervisor) == [kept.id]
        assert found(db, team.supervisor, evidence=True) == []

    def test_filters_combine(self, db: Session, team: Team) -> None:
        both = make_clip(db, officer=team.alice, camera_serial="CAM-A", evidence_flag=True)
        make_clip(db, officer=team.alice, camera_serial="CAM-A")
        make_clip(db, officer=team.bob, camera_serial="CAM-A", evidence_flag=True)
        assert found(db, team.supervisor, collar_number="8001", camera_serial="CAM-A", evidence=True) == [
            both.id
        ]


class TestPlace:
    def test_a_track_passing_within_the_radius_is_found_and_one_just_outside_is_not(
        self, db: Session, team: Team
    ) -> None:
        # Both tracks run 2 km west to east; one passes 150 m north of the centre, one 450 m.
        near_line, far_line = north_of(CENTRE, 150), north_of(CENTRE, 450)
        near = make_clip(
            db, officer=team.alice, gps_track=walk(east_of(near_line, -1000), east_of(near_line, 1000))
        )
        make_clip(db, officer=team.alice, gps_track=walk(east_of(far_line, -1000), east_of(far_line, 1000)))
        assert found(db, team.supervisor, near=Circle(*CENTRE, 300)) == [near.id]
        assert len(found(db, team.supervisor, near=Circle(*CENTRE, 600))) == 2
        assert found(db, team.supervisor, near=Circle(*north_of(CENTRE, 5000), 1000)) == []

    def test_a_clip_without_a_track_is_placed_at_its_cameras_station(self, db: Session, team: Team) -> None:
        camera = make_device(db, kind="camera", station="Lloyd House")
        fleet.set_station_position(db, SYSTEM, name="Lloyd House", latitude=CENTRE[0], longitude=CENTRE[1])
        at_station = make_clip(db, officer=team.alice, camera_serial=camera.serial)
        nowhere = make_clip(db, officer=team.alice, camera_serial="STRAY-1")
        assert found(db, team.supervisor, near=Circle(*north_of(CENTRE, 50), 100)) == [at_station.id]
        assert search.clip_position(at_station) == pytest.approx(CENTRE)
        assert search.clip_position(nowhere) is None

    def test_placing_again_finds_clips_of_a_station_given_a_position_later(
        self,
        factory: sessionmaker[Session],
        database_url: str,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        with transaction(factory) as db:
            team = make_team(db)
            camera = make_device(db, kind="camera", station="Steelhouse Lane")
            untracked = make_clip(db, officer=team.alice, camera_serial=camera.serial).id
            tracked = make_clip(db, officer=team.alice, gps_track=[[0, *north_of(CENTRE, 5000)]]).id
            fleet.set_station_position(
                db, SYSTEM, name="Steelhouse Lane", latitude=CENTRE[0], longitude=CENTRE[1]
            )
        with factory() as db:
            assert found(db, team.supervisor, near=Circle(*CENTRE, 100)) == []
        monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("OPENBWV_DATABASE_URL", database_url)
        result = CliRunner().invoke(build_cli(), ["footage", "places"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1] == "Placed 1 clip for search."
        with factory() as db:
            assert found(db, team.supervisor, near=Circle(*CENTRE, 100)) == [untracked]
            assert found(db, team.supervisor, near=Circle(*north_of(CENTRE, 5000), 100)) == [tracked]
        assert list(place.reindex_places(factory, every_clip=True, batch_size=1)) == [1, 2]

    def test_a_deleted_clip_leaves_the_place_index_and_a_restored_one_comes_back(
        self, db: Session, team: Team
    ) -> None:
        clip = make_clip(db, officer=team.alice, gps_track=[[0, *CENTRE]])
        kept = make_clip(db, officer=team.alice, gps_track=[[0, *CENTRE]], evidence_flag=True)
        later = RECORDED_AT + timedelta(days=40)
        steps = retention.delete_due_batch(db, SYSTEM, now=later)
        assert [s.clip_id for s in steps] == [clip.id]
        places = select(ClipPlace.clip_id).distinct()
        assert list(db.scalars(places)) == [kept.id]
        retention.restore_clip(
            db, SYSTEM, clip.id, reason="deleted in error", window=timedelta(days=7), now=later
        )
        assert sorted(db.scalars(places)) == sorted([clip.id, kept.id])
        assert sorted(found(db, team.supervisor, near=Circle(*CENTRE, 100))) == sorted([clip.id, kept.id])

    def test_the_position_of_a_clip_with_a_track_is_its_first_fix(self, db: Session, team: Team) -> None:
        clip = make_clip(db, officer=team.alice, gps_track=[[0, "x", 1], [1, 52.5, -1.9], [2, 52.6, -1.9]])
        assert search.clip_position(clip) == (52.5, -1.9)

    @pytest.mark.parametrize(
        "centre_lon, near_lon, far_lon", [(179.999, -179.998, -179.98), (-179.999, 179.998, 179.98)]
    )
    def test_a_circle_across_the_antimeridian_finds_points_on_the_other_side(
        self, centre_lon: float, near_lon: float, far_lon: float, db: Session, team: Team
    ) -> None:
        near = make_clip(db, officer=team.alice, gps_track=[[0, 0.0, near_lon]])
        make_clip(db, officer=team.alice, gps_track=[[0, 0.0, far_lon]])
        assert found(db, team.supervisor, near=Circle(0.0, centre_lon, 1000)) == [near.id]

    def test_a_circle_around_a_pole_reads_whole_rows(self, db: Session, team: Team) -> None:
        near = make_clip(db, officer=team.alice, gps_track=[[0, 89.999, 120.0]])
        ranges, shifts = cell_ranges(Circle(90.0, 0.0, 1000))
        assert ranges == [(cell_of(89.99, -180), COLUMNS * 18000 - 1)] and shifts == (0, -360, 360)
        assert found(db, team.supervisor, near=Circle(90.0, 0.0, 1000)) == [near.id]

    def test_place_and_time_window_together(self, db: Session, team: Team) -> None:
        track = [[0, *CENTRE]]
        now = make_clip(db, officer=team.alice, gps_track=track)
        make_clip(db, officer=team.alice, gps_track=track, at=RECORDED_AT - timedelta(days=2))
        window = {"recorded_from": RECORDED_AT - timedelta(days=1), "recorded_to": RECORDED_AT}
        assert found(db, team.supervisor, near=Circle(*CENTRE, 100), **window) == [now.id]

    def test_a_track_is_thinned_to_points_apart_and_capped(self) -> None:
        long_walk = walk(CENTRE, north_of(CENTRE, 20_000), fixes=2001)  # a fix every 10 m
        points = thin(track_points(long_walk))
        assert len(points) == 50
        assert points[0] == pytest.approx(CENTRE) and points[-1] == pytest.approx(north_of(CENTRE, 20_000))
        short = thin(track_points(walk(CENTRE, north_of(CENTRE, 1000), fixes=101)))
        assert len(short) == 11


class TestPlacePages:
    """A place search's pages and count, for a caller who sees every clip (each hit of the place
    index is a match) and for a supervisor (each hit is asked whether it is their team's)."""

    def _library(self, db: Session, team: Team) -> dict[str, list[int]]:
        """Clips at the centre in the window, newest first: the team's and another unit's; beside
        them, one far away, one outside the window and one deleted by retention."""
        at_centre = [[0, *CENTRE]]
        ids: dict[str, list[int]] = {"team": [], "all": []}
        for n in range(7):
            officer = team.carol if n % 3 == 2 else team.alice
            clip = make_clip(
                db,
                officer=officer,
                gps_track=at_centre,
                evidence_flag=True,
                at=RECORDED_AT - timedelta(minutes=n),
            )
            ids["all"].append(clip.id)
            if officer is not team.carol:
                ids["team"].append(clip.id)
        make_clip(db, officer=team.alice, gps_track=[[0, *north_of(CENTRE, 3000)]], evidence_flag=True)
        make_clip(
            db,
            officer=team.alice,
            gps_track=at_centre,
            evidence_flag=True,
            at=RECORDED_AT - timedelta(days=3),
        )
        gone = make_clip(db, officer=team.alice, gps_track=at_centre, at=RECORDED_AT - timedelta(minutes=30))
        steps = retention.delete_due_batch(db, SYSTEM, now=RECORDED_AT + timedelta(days=40))
        assert [s.clip_id for s in steps] == [gone.id]
        return ids

    @pytest.mark.parametrize("who", ["all", "team"])
    def test_pages_cover_the_clips_there_once_and_every_page_gives_the_same_total(
        self, who: str, db: Session, team: Team
    ) -> None:
        expected = self._library(db, team)[who]
        actor = actor_of(db, Role.ADMIN) if who == "all" else team.supervisor
        filters = ClipFilters(
            near=Circle(*CENTRE, 200), recorded_from=RECORDED_AT - timedelta(days=1), recorded_to=RECORDED_AT
        )
        seen, totals, cursor = [], [], None
        while True:
            page = search_clips(db, actor, filters, limit=2, cursor=cursor)
            seen += [v.clip.id for v in page.items]
            totals.append((page.total, page.total_exact))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected
        assert totals == [(len(expected), True)] * len(totals) and len(totals) == math.ceil(len(expected) / 2)
        oldest = search_clips(db, actor, filters, limit=2, oldest_first=True)
        assert [v.clip.id for v in oldest.items] == expected[::-1][:2]

    @pytest.mark.parametrize("who", ["all", "team"])
    def test_the_count_of_a_place_stops_at_the_cap(
        self, who: str, db: Session, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._library(db, team)
        monkeypatch.setattr(search, "COUNT_CAP", 3)
        actor = actor_of(db, Role.ADMIN) if who == "all" else team.supervisor
        first = search_clips(db, actor, ClipFilters(near=Circle(*CENTRE, 200)), limit=2)
        assert (first.total, first.total_exact) == (3, False)
        assert first.next_cursor is not None
        later = search_clips(
            db, actor, ClipFilters(near=Circle(*CENTRE, 200)), limit=2, cursor=first.next_cursor
        )
        assert (later.total, later.total_exact) == (3, False)


@ON_POSTGRES_ONLY
def test_a_search_on_postgresql_is_planned_for_its_own_values_and_only_in_its_transaction(
    factory: sessionmaker[Session],
) -> None:
    """A generic plan of a prepared search (after five runs) knew neither category nor team, and read a
    category's whole month at ten million clips; each search is planned for its values instead."""
    with transaction(factory) as db:
        team = make_team(db)
        search_clips(db, team.supervisor, ClipFilters(category="untagged"))
        assert db.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    with factory() as db:
        assert db.scalar(text("SHOW plan_cache_mode")) == "auto"


class TestPaging:
    def _pages(
        self, db: Session, actor: Actor, *, limit: int, oldest_first: bool = False, between: Any = None
    ) -> Iterator[list[int]]:
        cursor = None
        while True:
            page = search_clips(
                db, actor, ClipFilters(), limit=limit, cursor=cursor, oldest_first=oldest_first
            )
            yield [v.clip.id for v in page.items]
            if page.next_cursor is None:
                return
            if between is not None:
                between()
            cursor = page.next_cursor

    @pytest.mark.parametrize("oldest_first", [False, True])
    def test_pages_cover_every_clip_once_while_clips_arrive(
        self, oldest_first: bool, db: Session, team: Team
    ) -> None:
        # Two clips at each moment: the id breaks the tie.
        times = [RECORDED_AT - timedelta(minutes=m // 2) for m in range(9)]
        before = {make_clip(db, officer=team.alice, at=t).id for t in times}
        arrivals = itertools.count()

        def arrive() -> None:
            n = next(arrivals)
            # One newer than every page so far and one older than all: neither may disturb paging.
            make_clip(db, officer=team.bob, at=RECORDED_AT + timedelta(hours=1 + n))
            make_clip(db, officer=team.bob, at=RECORDED_AT - timedelta(hours=1 + n))

        pages = list(self._pages(db, team.supervisor, limit=2, oldest_first=oldest_first, between=arrive))
        seen = [clip_id for page in pages for clip_id in page]
        assert len(seen) == len(set(seen))
        assert before <= set(seen)
        ordered = [db.get(Clip, i) for i in seen]
        keys = [(c.recorded_at, c.id) for c in ordered if c is not None]
        assert keys == sorted(keys, reverse=not oldest_first)

    def test_the_last_page_has_no_cursor_and_a_full_first_page_does(self, db: Session, team: Team) -> None:
        for m in range(3):
            make_clip(db, officer=team.alice, at=RECORDED_AT - timedelta(minutes=m))
        first = search_clips(db, team.supervisor, ClipFilters(), limit=3)
        assert first.next_cursor is None and (first.total, first.total_exact) == (3, True)
        second = search_clips(db, team.supervisor, ClipFilters(), limit=2)
        assert second.next_cursor is not None and second.total == 3
        rest = search_clips(db, team.supervisor, ClipFilters(), limit=2, cursor=second.next_cursor)
        assert len(rest.items) == 1 and rest.next_cursor is None and rest.total == 3


class TestCount:
    def test_the_count_stops_at_the_cap(
        self, db: Session, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(search, "COUNT_CAP", 3)
        for m in range(5):
            make_clip(db, officer=team.alice, at=RECORDED_AT - timedelta(minutes=m))
        page = search_clips(db, team.supervisor, ClipFilters(), limit=2)
        assert (page.total, page.total_exact) == (3, False)
        exact = search_clips(db, team.supervisor, ClipFilters(camera_serial="CAM-SEARCH"), limit=4)
        assert (exact.total, exact.total_exact) == (3, False)
        few = search_clips(db, team.supervisor, ClipFilters(collar_number="8001"), limit=2, cursor=None)
        assert few.total == 3
        monkeypatch.setattr(search, "COUNT_CAP", 5)
        assert search_clips(db, team.supervisor, ClipFilters(), limit=2).total_exact is True


def _cursor(data: Any) -> str:
    import json

    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class TestRefusals:
    @pytest.mark.parametrize(
        "filters, field",
        [
            (
                ClipFilters(recorded_from=RECORDED_AT, recorded_to=RECORDED_AT - timedelta(seconds=1)),
                "recorded_from",
            ),
            (ClipFilters(near=Circle(90.01, 0, 100)), "near_lat"),
            (ClipFilters(near=Circle(-91, 0, 100)), "near_lat"),
            (ClipFilters(near=Circle(0, 180.5, 100)), "near_lon"),
            (ClipFilters(near=Circle(0, -181, 100)), "near_lon"),
            (ClipFilters(near=Circle(0, 0, 0)), "radius_m"),
            (ClipFilters(near=Circle(0, 0, -5)), "radius_m"),
            (ClipFilters(near=Circle(0, 0, 20_001)), "radius_m"),
            (ClipFilters(near=Circle(math.nan, 0, 100)), "near"),
            (ClipFilters(near=Circle(0, math.inf, 100)), "near"),
            (ClipFilters(near=Circle(0, 0, math.inf)), "near"),
            (ClipFilters(category="nonsense"), "category"),
            (ClipFilters(unit="NOPE"), "unit"),
            (ClipFilters(ingest_state="lost"), "ingest_state"),
            (ClipFilters(sha256="abc"), "sha256"),
            (ClipFilters(sha256="g" * 64), "sha256"),
            (ClipFilters(collar_number="x" * 61), "collar_number"),
            (ClipFilters(incident="A\x00B"), "incident"),
        ],
    )
    def test_bad_filters_are_refused_with_the_field(
        self, filters: ClipFilters, field: str, db: Session, team: Team
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            search_clips(db, team.supervisor, filters)
        assert refused.value.field == field

    @pytest.mark.parametrize(
        "cursor",
        [
            "!!!",
            "a",
            _cursor([1, 2]),
            _cursor({"t": "2026-11-26T05:00:00+00:00", "i": 1}),
            _cursor({"t": "2026-11-26T05:00:00", "i": 1, "o": "desc"}),
            _cursor({"t": "yesterday", "i": 1, "o": "desc"}),
            _cursor({"t": "2026-11-26T05:00:00+00:00", "i": "1", "o": "desc"}),
            _cursor({"t": "2026-11-26T05:00:00+00:00", "i": 2**64, "o": "desc"}),
            _cursor({"t": "2026-11-26T05:00:00+00:00", "i": True, "o": "desc"}),
            _cursor({"t": "2026-11-26T05:00:00+00:00", "i": 1, "o": "asc"}),
            _cursor({"t": "9999-12-31T23:59:59-05:00", "i": 1, "o": "desc"}),
            "x" * 201,
        ],
    )
    def test_a_cursor_that_does_not_decode_is_refused(self, cursor: str, db: Session, team: Team) -> None:
        with pytest.raises(InvalidInput) as refused:
            search_clips(db, team.supervisor, ClipFilters(), cursor=cursor)
        assert refused.value.field == "cursor"

    @pytest.mark.parametrize("limit", [0, 501])
    def test_a_limit_out_of_range_is_refused(self, limit: int, db: Session, team: Team) -> None:
        with pytest.raises(InvalidInput):
            search_clips(db, team.supervisor, ClipFilters(), limit=limit)


class TestVisibility:
    def test_an_officer_finds_only_their_own_clips(self, db: Session, team: Team) -> None:
        mine = make_clip(db, officer=team.alice)
        make_clip(db, officer=team.bob)
        make_clip(db, officer=None, review_reason="unknown_camera", ingest_state="held_for_review")
        alice = actor_of(db, Role.OFFICER, team.alice)
        assert found(db, alice) == [mine.id]
        assert found(db, alice, collar_number="8002") == []

    def test_a_supervisor_finds_their_teams_clips_only(self, db: Session, team: Team) -> None:
        a = make_clip(db, officer=team.alice)
        b = make_clip(db, officer=team.bob, at=RECORDED_AT - timedelta(minutes=1))
        make_clip(db, officer=team.carol)
        assert found(db, team.supervisor) == [a.id, b.id]
        assert found(db, team.supervisor, collar_number="8003") == []

    def test_an_evidence_manager_finds_clips_held_for_review(self, db: Session, team: Team) -> None:
        make_clip(db, officer=team.alice)
        held = make_clip(db, officer=None, review_reason="unknown_camera", ingest_state="held_for_review")
        assert found(db, actor_of(db, Role.EVIDENCE_MANAGER)) == [held.id]

    def test_a_panel_member_finds_nothing(self, db: Session, team: Team) -> None:
        make_clip(db, officer=team.alice)
        make_clip(db, officer=None, review_reason="unknown_camera", ingest_state="held_for_review")
        page = search_clips(db, actor_of(db, Role.PANEL_MEMBER), ClipFilters())
        assert (page.items, page.total, page.next_cursor) == ([], 0, None)


class TestAudit:
    def test_each_search_records_its_filters_and_the_clips_it_showed(self, db: Session, team: Team) -> None:
        clip = make_clip(db, officer=team.alice, gps_track=[[0, *CENTRE]])
        search_clips(
            db,
            team.supervisor,
            ClipFilters(collar_number="8001", near=Circle(*CENTRE, 250), recorded_to=RECORDED_AT),
            oldest_first=True,
        )
        [event] = events(db, "footage:clip:searched")
        assert event.actor_username == team.supervisor.username
        assert event.target_type == "footage_search"
        assert event.details["filters"] == {
            "collar_number": "8001",
            "recorded_to": RECORDED_AT.isoformat(),
            "near": {"latitude": CENTRE[0], "longitude": CENTRE[1], "radius_m": 250},
        }
        assert event.details["clip_ids"] == [clip.id]
        assert event.details["subject_officer_ids"] == [team.alice.id]
        assert (event.details["total"], event.details["order"]) == (1, "oldest")

    def test_a_refused_search_records_nothing(self, db: Session, team: Team) -> None:
        with pytest.raises(InvalidInput):
            search_clips(db, team.supervisor, ClipFilters(category="nonsense"))
        assert events(db, "footage:clip:searched") == []


def _headers(factory: sessionmaker[Session], role: Role, collar: str | None = None) -> dict[str, str]:
    officer = None
    if collar is not None:
        with transaction(factory) as db:
            officer = people.get_officer(db, collar) or make_officer(db, collar=collar)
    return headers_for(factory, role, officer=officer)


class TestSearchApi:
    @pytest.fixture
    def three(self, factory: sessionmaker[Session]) -> tuple[dict[str, str], list[int]]:
        """Three clips of one officer, newest first, the first placed at ``CENTRE``; their headers."""
        with transaction(factory) as db:
            officer = make_officer(db, collar="8101")
            ids = [
                make_clip(db, officer=officer, at=RECORDED_AT - timedelta(minutes=m), gps_track=track).id
                for m, track in enumerate([[[0, *CENTRE]], None, None])
            ]
        return _headers(factory, Role.OFFICER, "8101"), ids

    def test_pages_by_cursor_with_the_new_shape(
        self, client: TestClient, three: tuple[dict[str, str], list[int]]
    ) -> None:
        headers, ids = three
        first = client.get("/api/v1/footage", params={"limit": 2}, headers=headers).json()
        assert [i["id"] for i in first["items"]] == ids[:2]
        assert (first["total"], first["total_exact"], first["limit"]) == (3, True, 2)
        assert (first["items"][0]["latitude"], first["items"][0]["longitude"]) == CENTRE
        assert first["items"][1]["latitude"] is None
        rest = client.get(
            "/api/v1/footage", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
        assert [i["id"] for i in rest.json()["items"]] == ids[2:] and rest.json()["next_cursor"] is None
        oldest = client.get("/api/v1/footage", params={"order": "oldest"}, headers=headers).json()
        assert [i["id"] for i in oldest["items"]] == ids[::-1]

    def test_filters_from_the_query_string(
        self, client: TestClient, three: tuple[dict[str, str], list[int]]
    ) -> None:
        headers, ids = three
        params: dict[str, str | float] = {
            "near_lat": CENTRE[0],
            "near_lon": CENTRE[1],
            "radius_m": 100,
            "collar_number": "8101",
        }
        assert [
            i["id"] for i in client.get("/api/v1/footage", params=params, headers=headers).json()["items"]
        ] == [ids[0]]
        window = {"recorded_from": (RECORDED_AT - timedelta(minutes=1)).isoformat(), "evidence": "false"}
        assert [
            i["id"] for i in client.get("/api/v1/footage", params=window, headers=headers).json()["items"]
        ] == ids[:2]

    @pytest.mark.parametrize(
        "params",
        [
            {"near_lat": 52.0, "near_lon": -1.0},
            {"radius_m": 100},
            {"near_lat": "nan", "near_lon": 0, "radius_m": 100},
            {"near_lat": 0, "near_lon": 0, "radius_m": 20_001},
            {"limit": 0},
            {"limit": 501},
            {"limit": 2**70},
            {"order": "sideways"},
            {"cursor": "not-a-cursor"},
            {"collar_number": "80\x0001"},
            {"incident": "x" * 41},
            {"recorded_from": "yesterday"},
            {"recorded_from": "2026-11-26T05:00:00Z", "recorded_to": "2026-11-26T04:00:00Z"},
            {"category": "nonsense"},
            {"unit": "NOPE"},
            {"sha256": "abc"},
            {"evidence": "perhaps"},
        ],
    )
    def test_bad_input_is_422_with_a_message(
        self, params: dict[str, Any], client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.get("/api/v1/footage", params=params, headers=_headers(factory, Role.OFFICER))
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"]

    def test_refuses_anonymous_callers_and_roles_without_footage(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/api/v1/footage").status_code == 401
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert client.get("/api/v1/footage", headers=headers).status_code == 403
