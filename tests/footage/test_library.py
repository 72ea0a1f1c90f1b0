"""The library page: its filter form read into a search, the map of the results, the page itself,
and the rule that a result's thumbnail is served only against the caller's own recent search that
listed it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.errors import InvalidInput
from openbwv.footage import library
from openbwv.footage.models import Clip
from openbwv.footage.search import Circle, ClipFilters
from openbwv.people.models import Officer
from openbwv.policy import Role
from openbwv.storage import open_store
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user
from tests.footage.helpers import events
from tests.web.helpers import HTML, csrf, sign_in

LONDON = ZoneInfo("Europe/London")
POSTER = b"\xff\xd8 a poster, as far as this test cares \xff\xd9"


class TestFiltersFromForm:
    def test_empty_fields_ask_nothing(self) -> None:
        assert (
            library.filters_from_form({"collar": " ", "evidence": "", "order": "oldest"}, zone=LONDON)
            == ClipFilters()
        )

    def test_every_field(self) -> None:
        form = {
            "collar": "7001",
            "unit": "resp",
            "camera": "CAM-1",
            "category": "untagged",
            "incident": "INC-1",
            "state": "ready",
            "sha256": "ab" * 32,
            "from": "2026-11-20T08:00",
            "to": "2026-11-26T08:00+00:00",
            "lat": "52.48",
            "lon": "-1.89",
            "radius": "500",
            "evidence": "yes",
            "hold": "no",
        }
        assert library.filters_from_form(form, zone=LONDON) == ClipFilters(
            collar_number="7001",
            unit="resp",
            camera_serial="CAM-1",
            recorded_from=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            recorded_to=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
            near=Circle(52.48, -1.89, 500.0),
            category="untagged",
            evidence=True,
            hold=False,
            incident="INC-1",
            ingest_state="ready",
            sha256="ab" * 32,
        )

    @pytest.mark.parametrize(
        ("form", "field"),
        [
            ({"lat": "52.48", "lon": "-1.89"}, "near"),
            ({"lat": "north", "lon": "-1.89", "radius": "5"}, "lat"),
            ({"from": "last tuesday"}, "from"),
            ({"hold": "maybe"}, "hold"),
        ],
    )
    def test_a_field_that_is_no_filter_is_refused(self, form: dict[str, str], field: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            library.filters_from_form(form, zone=LONDON)
        assert refused.value.field == field

    def test_times_are_read_on_the_forces_clocks(self) -> None:
        form = {"from": "2026-07-01T09:30", "to": "2026-07-01T10:30+01:00"}
        filters = library.filters_from_form(form, zone=LONDON)
        assert filters.recorded_from == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
        assert filters.recorded_to == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)

    def test_a_time_the_clocks_skipped_is_refused_in_a_sentence(self) -> None:
        with pytest.raises(InvalidInput, match="did not happen in Europe/London") as refused:
            library.filters_from_form({"from": "2026-03-29T01:30"}, zone=LONDON)
        assert refused.value.field == "from"


class TestMapPoints:
    def test_north_is_up_east_is_right_and_the_results_fill_the_box(self) -> None:
        south_west, north_east = (52.0, -2.0), (52.1, -1.9)
        points = library.map_points([(1, "a", south_west), (2, "b", north_east), (3, "c", None)])
        assert [p.clip_id for p in points] == [1, 2]
        first, second = points
        assert second.x > first.x and second.y < first.y
        assert (first.x, first.y) == (library.MAP_WIDTH / 2 - 144, library.MAP_HEIGHT - 16)
        assert (second.x, second.y) == (library.MAP_WIDTH / 2 + 144, 16)

    def test_one_result_is_drawn_in_the_middle(self) -> None:
        [point] = library.map_points([(1, "a", (52.0, -2.0))])
        assert (point.x, point.y) == (library.MAP_WIDTH / 2, library.MAP_HEIGHT / 2)

    def test_no_positions_no_points(self) -> None:
        assert library.map_points([(1, "a", None)]) == []


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def add_clip(
    settings: Settings, factory: sessionmaker[Session], officer: Officer | None, *, minutes_ago: int = 60
) -> int:
    """A clip of ``officer`` with a poster in the store and a short GPS track."""
    sha = uuid.uuid4().hex * 2
    poster = f"posters/{sha}.jpg"
    anyio.run(open_store(settings).put, poster, _once(POSTER))
    with transaction(factory) as db:
        clip = Clip(
            sha256=sha,
            size=1000,
            storage_key=f"clips/{sha}",
            camera_serial="CAM-LIB",
            officer_id=officer.id if officer else None,
            recorded_at=clock.now() - timedelta(minutes=minutes_ago),
            ingest_state="ready",
            poster_key=poster,
            gps_track=[[0, 52.4862, -1.8904], [1, 52.4863, -1.8906]],
        )
        db.add(clip)
        db.flush()
        return clip.id


def sign_in_officer(client: TestClient, factory: sessionmaker[Session], officer: Officer) -> None:
    username = f"u{officer.collar_number}"
    with transaction(factory) as db:
        make_user(db, username=username, roles=[Role.OFFICER], officer=officer)
    answer = client.post(
        "/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": csrf(client, "/login")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def officers(factory: sessionmaker[Session], *collars: str) -> list[Officer]:
    with transaction(factory) as db:
        return [make_officer(db, collar=collar) for collar in collars]


def last_search_id(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return events(db, "footage:clip:searched")[-1].id


class TestLibraryPage:
    def test_anonymous_is_sent_to_sign_in_and_a_prosecutor_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/footage", headers=HTML, follow_redirects=False).status_code == 303
        sign_in(client, factory, Role.PROSECUTOR)
        assert client.get("/footage", headers=HTML).status_code == 403

    def test_an_officer_finds_their_own_clips_with_thumbnails_a_map_and_links(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        owner, colleague = officers(factory, "7501", "7502")
        own, hidden = add_clip(settings, factory, owner), add_clip(settings, factory, colleague)
        sign_in_officer(client, factory, owner)

        page = client.get("/footage?collar=7501", headers=HTML)

        assert page.status_code == 200
        assert 'href="/footage"' in page.text
        assert (
            f'data-testid="result-{own}"' in page.text and f'data-testid="result-{hidden}"' not in page.text
        )
        assert f'href="/footage/clips/{own}"' in page.text
        search = last_search_id(factory)
        assert f'src="/footage/clips/{own}/thumb?search={search}"' in page.text
        assert 'data-testid="results-map"' in page.text and f'data-clip="{own}"' in page.text
        assert 'name="collar" value="7501"' in page.text

    def test_the_next_page_continues_after_the_last_result(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        [owner] = officers(factory, "7503")
        ids = [add_clip(settings, factory, owner, minutes_ago=m) for m in range(60, 60 + 51)]
        sign_in_officer(client, factory, owner)
        first = client.get("/footage?collar=7503", headers=HTML).text
        assert f'data-testid="result-{ids[49]}"' in first and f'data-testid="result-{ids[50]}"' not in first
        assert "51 clips found; 50 on this page." in first
        link = first.split('data-testid="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        second = client.get(link, headers=HTML).text
        assert f'data-testid="result-{ids[50]}"' in second and f'data-testid="result-{ids[0]}"' not in second

    def test_a_bad_filter_redraws_the_form_with_the_refusal(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.EVIDENCE_MANAGER)
        page = client.get("/footage?category=no_such&collar=7", headers=HTML)
        assert page.status_code == 422
        assert "No category has the code no_such." in page.text
        assert 'name="collar" value="7"' in page.text
        answer = client.get("/footage?lat=52&lon=1", headers=HTML)
        assert answer.status_code == 422 and "A place needs a latitude" in answer.text


class TestThumbnail:
    def test_the_callers_own_recent_search_that_listed_the_clip_gets_the_poster(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        [owner] = officers(factory, "7510")
        clip_id = add_clip(settings, factory, owner)
        sign_in_officer(client, factory, owner)
        client.get("/footage", headers=HTML)
        search = last_search_id(factory)

        answer = client.get(f"/footage/clips/{clip_id}/thumb?search={search}")
        assert (answer.status_code, answer.content) == (200, POSTER)
        assert answer.headers["content-type"] == "image/jpeg"

        clock.advance(timedelta(minutes=59))
        assert client.get(f"/footage/clips/{clip_id}/thumb?search={search}").status_code == 200
        clock.advance(timedelta(minutes=1))
        assert client.get(f"/footage/clips/{clip_id}/thumb?search={search}").status_code == 404

    def test_a_clip_the_search_did_not_list_is_not_found(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        [owner] = officers(factory, "7511")
        listed = add_clip(settings, factory, owner, minutes_ago=60)
        unlisted = add_clip(settings, factory, owner, minutes_ago=600)
        sign_in_officer(client, factory, owner)
        client.get("/footage?from=2026-11-26T06:00", headers=HTML)
        search = last_search_id(factory)
        assert client.get(f"/footage/clips/{listed}/thumb?search={search}").status_code == 200
        assert client.get(f"/footage/clips/{unlisted}/thumb?search={search}").status_code == 404

    def test_someone_elses_search_or_another_event_is_not_found(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        owner, colleague = officers(factory, "7512", "7513")
        clip_id = add_clip(settings, factory, owner)
        sign_in_officer(client, factory, owner)
        client.get("/footage", headers=HTML)
        search = last_search_id(factory)
        with factory() as db:
            other_event = events(db, "auth:login:succeeded")[-1].id
        assert client.get(f"/footage/clips/{clip_id}/thumb?search={other_event}").status_code == 404
        client.post("/logout", data={"csrf_token": csrf(client, "/footage")}, headers=HTML)
        client.cookies.clear()
        sign_in_officer(client, factory, colleague)
        assert client.get(f"/footage/clips/{clip_id}/thumb?search={search}").status_code == 404
        assert client.get(f"/footage/clips/{clip_id}/thumb?search=999999").status_code == 404
