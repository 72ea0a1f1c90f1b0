"""The control room's map: its event stream against a real server, its page and the map library's files."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.jobs import JobRegistry
from openbwv.live import feed
from openbwv.policy import Role
from tests.builders import headers_for
from tests.live.helpers import TELEMETRY, payload, reporting_camera
from tests.live_server import serve

STREAM = "/api/v1/live/cameras/stream"
MAP_PAGE = "/live/map"
HTML = {"Accept": "text/html"}
# The stream looks for changes every half second: a change shows within a second, with room for a
# busy machine.
WITHIN = 2.0


def events(response: httpx2.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """The server-sent events of ``response`` as (name, data), as they arrive."""
    name, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data += line.removeprefix("data: ")
        elif not line and data:
            yield name, json.loads(data)
            name, data = "message", ""


class TestCameraStream:
    def test_sends_every_camera_then_a_change_within_a_second_holding_no_session(
        self, settings: Settings, factory: sessionmaker[Session], engine: Engine, clock: FixedClock
    ) -> None:
        camera = reporting_camera(factory, serial="CAM-S1", collar="5101", unit_code="TRAF")
        reader = headers_for(factory, Role.CONTROL_ROOM, username="controller")
        with serve(settings, factory) as base, httpx2.Client(base_url=base, timeout=5) as http:
            assert http.post(TELEMETRY, json=payload(battery_pct=64), headers=camera).status_code == 202
            with http.stream("GET", STREAM, headers=reader) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                received = events(response)
                name, snapshot = next(received)
                assert name == "snapshot"
                [feature] = snapshot["features"]
                props = feature["properties"]
                assert (feature["id"], props["collar_number"], props["officer_name"], props["unit"]) == (
                    "CAM-S1",
                    "5101",
                    "Sam Patel",
                    "TRAF",
                )
                assert (props["recording"], props["battery_pct"], props["stale"]) == (False, 64.0, False)
                # Between its reads the stream holds no connection of the pool.
                assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

                clock.advance(timedelta(seconds=5))
                moved = payload(recording=True, lat=52.5, lon=-1.9)
                assert http.post(TELEMETRY, json=moved, headers=camera).status_code == 202
                stored = time.monotonic()
                name, update = next(received)
                assert time.monotonic() - stored < WITHIN
                assert name == "update"
                [changed] = update["features"]
                assert changed["geometry"]["coordinates"] == [-1.9, 52.5]
                assert changed["properties"]["recording"] is True
                assert update["removed"] == []
        with factory() as db:
            viewed = db.scalars(select(AuditEvent).where(AuditEvent.action == "live:map:viewed")).all()
        # The opening is audited, as a read of the map is; the updates that follow are not reads.
        assert [e.actor_username for e in viewed] == ["controller"]

    def test_a_camera_gone_quiet_is_sent_as_stale(
        self, settings: Settings, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        camera = reporting_camera(factory, serial="CAM-S2", collar="5102")
        reader = headers_for(factory, Role.SUPERVISOR)
        with serve(settings, factory) as base, httpx2.Client(base_url=base, timeout=5) as http:
            http.post(TELEMETRY, json=payload(recording=True), headers=camera)
            with http.stream("GET", STREAM, headers=reader) as response:
                received = events(response)
                assert next(received)[1]["features"][0]["properties"]["stale"] is False
                clock.advance(timedelta(seconds=settings.live_stale_seconds + 1))
                name, update = next(received)
                assert name == "update" and update["features"][0]["properties"]["stale"] is True

    def test_an_officer_is_refused_and_an_anonymous_caller_asked_to_sign_in(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get(STREAM, headers=headers_for(factory, Role.OFFICER)).status_code == 403
        assert client.get(STREAM).status_code == 401


@pytest.fixture
def leaflet_files(tmp_path: Path) -> Path:
    """A node_modules holding what the set-up installs of Leaflet, as far as these tests look."""
    node_modules = tmp_path / "node_modules"
    dist = node_modules / "leaflet" / "dist"
    (dist / "images").mkdir(parents=True)
    (dist / "leaflet.js").write_text("/* Leaflet */")
    (dist / "leaflet.css").write_text(".leaflet-container {}")
    (dist / "images" / "marker-icon.png").write_bytes(b"\x89PNG")
    return node_modules


def _client(settings: Settings, factory: sessionmaker[Session], **changes: Any) -> TestClient:
    app = create_app(settings.model_copy(update=changes), factory, jobs=JobRegistry())
    return TestClient(app, base_url="https://testserver")


def test_the_streams_of_a_process_share_one_read_of_the_map(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = feed.current_camera_states

    def counted(db: Session, **kwargs: Any) -> list[Any]:
        reads.append(1)
        return real(db, **kwargs)

    monkeypatch.setattr(feed, "current_camera_states", counted)
    shared = feed.SharedMapRead(
        feed.DatabaseMapStates(factory),
        stale_after=timedelta(minutes=2),
        shape=lambda c: c.state.serial,
        fresh_for=0.3,
    )
    for _ in range(5):  # five streams polling within the same moment
        assert shared.since(0) == (0, {}, set())
    assert len(reads) == 1
    time.sleep(0.35)
    shared.since(0)
    assert len(reads) == 2


class TestMapPage:
    def test_the_control_room_gets_the_map_with_its_library_and_a_link_to_it(
        self, settings: Settings, factory: sessionmaker[Session], leaflet_files: Path
    ) -> None:
        headers = {**headers_for(factory, Role.CONTROL_ROOM), **HTML}
        with _client(settings, factory, node_modules=leaflet_files) as client:
            response = client.get(MAP_PAGE, headers=headers)
            assert response.status_code == 200, response.text
            page = response.text
            assert 'data-stream="/api/v1/live/cameras/stream"' in page
            assert '<script src="/static/vendor/leaflet/leaflet.js" defer></script>' in page
            assert '<script src="/static/live-map.js" defer></script>' in page
            assert 'href="/live/map" aria-current="page">Live map</a>' in page
            assert "latitude/longitude grid" in page
            assert 'id="live-view"' in page
            library = client.get("/static/vendor/leaflet/leaflet.js")
            assert (library.status_code, library.text) == (200, "/* Leaflet */")
            assert client.get("/static/vendor/leaflet/images/marker-icon.png").status_code == 200
            assert client.get("/static/live-map.js").status_code == 200

    def test_without_the_library_the_page_lists_positions_and_says_so(
        self, settings: Settings, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        headers = {**headers_for(factory, Role.CONTROL_ROOM), **HTML}
        with _client(settings, factory, node_modules=tmp_path / "none") as client:
            page = client.get(MAP_PAGE, headers=headers).text
            assert "Map library not installed" in page
            assert "leaflet.js" not in page and 'data-testid="camera-list"' in page
            assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 404

    def test_a_tile_server_is_used_and_allowed_by_the_security_policy(
        self, settings: Settings, factory: sessionmaker[Session], leaflet_files: Path
    ) -> None:
        tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
        headers = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        with _client(
            settings,
            factory,
            node_modules=leaflet_files,
            map_tile_url=tiles,
            map_tile_attribution="© Example",
        ) as client:
            response = client.get(MAP_PAGE, headers=headers)
            assert f'data-tile-url="{tiles}"' in response.text
            assert "latitude/longitude grid" not in response.text
            policy = response.headers["content-security-policy"]
            assert "img-src 'self' data: https://*.tile.example.org;" in policy

    def test_the_page_is_refused_to_an_officer_and_not_in_their_navigation(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = {**headers_for(factory, Role.OFFICER), **HTML}
        assert client.get(MAP_PAGE, headers=headers).status_code == 403
        assert 'href="/live/map"' not in client.get("/", headers=headers).text
