"""The map's state kept in each server process from its own subscription to the real broker: what
a camera publishes is on the map without the database's latest state, a later message never moves a
camera back, unknown serials are not shown nor kept, and the GeoJSON keeps its documented shape."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import reading, transaction
from openbwv.jobs import JobRegistry
from openbwv.live import map_state
from openbwv.live.api import CameraFeatureOut, feature_text
from openbwv.live.feed import SharedMapRead
from openbwv.live.map_state import BrokerMapStates, LatestPositions
from openbwv.live.map_subscriber import MapSubscriber, check_messages
from openbwv.live.models import CameraLiveState
from openbwv.live.telemetry import CameraState, Reading, ReadingCheck, parse_reading
from openbwv.observability import Metrics
from openbwv.policy import Role
from tests.broker import MQTT_URL, NEEDS_MOSQUITTO, require_broker
from tests.builders import headers_for, make_device
from tests.live.helpers import BIRMINGHAM, CAMERAS, MAX_AGE, encoded, issued_camera, payload
from tests.live.test_mqtt import publish, topic

pytestmark = pytest.mark.xdist_group("mqtt-telemetry")


def reading_of(serial: str, *, seconds_ago: float = 0, **changes: Any) -> Reading:
    at = clock.now() - timedelta(seconds=seconds_ago)
    return parse_reading(encoded(at=at, **changes), serial=serial, now=clock.now(), max_age=MAX_AGE)


class TestLatestPositions:
    def test_a_newer_message_replaces_and_an_older_one_does_not(self) -> None:
        positions = LatestPositions()
        newer, older = reading_of("CAM-1", seconds_ago=1), reading_of("CAM-1", seconds_ago=5)
        assert positions.apply([newer]) == [newer]
        assert positions.apply([older]) == []
        assert positions.snapshot()["CAM-1"] is newer


class TestSubscription:
    def test_each_message_is_checked_as_the_consumer_checks_it_but_for_its_time(self) -> None:
        check = ReadingCheck(now=None, max_age=MAX_AGE)
        readings, ignored = check_messages(
            [
                ("openbwv/cameras/cam-7/telemetry", encoded(lat=52.5)),
                ("openbwv/cameras/CAM-8/telemetry", b"not json"),
                ("openbwv/cameras/CAM-9/telemetry", encoded(lat=91)),
                ("openbwv/other", encoded()),
                ("openbwv/cameras/CAM-10/telemetry", encoded(at=clock.now() - timedelta(days=3))),
            ],
            check,
        )
        assert [(r.serial, r.lat) for r in readings] == [("CAM-7", 52.5), ("CAM-10", BIRMINGHAM[0])]
        assert ignored == {"malformed": 2, "impossible": 1}

    def test_the_server_applies_the_time_window_by_its_own_clock_and_counts_what_it_ignored(
        self, settings: Settings
    ) -> None:
        positions, metrics = LatestPositions(), Metrics()
        subscriber = MapSubscriber(
            settings.model_copy(update={"mqtt_url": MQTT_URL}), positions.apply, metrics
        )
        fresh = reading_of("CAM-7")
        old = reading_of("CAM-10")._replace(ts=clock.now() - timedelta(days=3))
        future = reading_of("CAM-11")._replace(ts=clock.now() + timedelta(hours=1))
        subscriber.take(msgspec.msgpack.encode(([fresh, old, future], {"malformed": 2})))
        assert positions.snapshot() == {"CAM-7": fresh}
        sample = metrics.registry.get_sample_value
        assert sample("openbwv_live_map_ignored_total", {"reason": "malformed"}) == 2
        assert sample("openbwv_live_map_ignored_total", {"reason": "stale"}) == 1
        assert sample("openbwv_live_map_ignored_total", {"reason": "impossible"}) == 1
        assert sample("openbwv_live_map_lag_seconds") == 0.0
        assert subscriber.received == 5


STALE_AFTER = timedelta(minutes=2)


class TestBrokerMapStates:
    def test_only_the_fleets_cameras_are_shown_with_their_holders_and_strangers_are_forgotten(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            issued_camera(db, serial="CAM-HELD", collar="4411")
        positions = LatestPositions()
        states = BrokerMapStates(factory, positions, unknown_lookup_seconds=0)
        positions.apply([reading_of("CAM-HELD"), reading_of("CAM-STRANGER")])
        found = states.changes(stale_after=STALE_AFTER, now=clock.now())
        assert list(found.states) == ["CAM-HELD"]
        assert found.changed == {"CAM-HELD"}
        shown = found.states["CAM-HELD"]
        assert (shown.collar_number, shown.officer_name is not None, shown.unit) == ("4411", True, "RESP")
        assert "CAM-STRANGER" not in positions.snapshot()

    def test_each_call_names_only_what_changed_since_the_last(self, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-A")
            make_device(db, serial="CAM-B")
        positions = LatestPositions()
        states = BrokerMapStates(factory, positions)
        positions.apply([reading_of("CAM-A", seconds_ago=5), reading_of("CAM-B", seconds_ago=5)])
        assert states.changes(stale_after=STALE_AFTER, now=clock.now()).changed == {"CAM-A", "CAM-B"}
        assert states.changes(stale_after=STALE_AFTER, now=clock.now()).changed == set()
        newer = reading_of("CAM-B", lat=52.6)
        positions.apply([newer])
        found = states.changes(stale_after=STALE_AFTER, now=clock.now())
        assert found.changed == {"CAM-B"}
        assert found.states["CAM-B"].state is newer

    def test_a_camera_gone_quiet_is_named_as_changed_and_stale(
        self, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(map_state, "STALE_SCAN_SECONDS", 0)
        with transaction(factory) as db:
            make_device(db, serial="CAM-QUIET")
        positions = LatestPositions()
        states = BrokerMapStates(factory, positions)
        positions.apply([reading_of("CAM-QUIET")])
        assert states.changes(stale_after=STALE_AFTER, now=clock.now()).states["CAM-QUIET"].stale is False
        later = clock.now() + STALE_AFTER + timedelta(seconds=1)
        found = states.changes(stale_after=STALE_AFTER, now=later)
        assert found.changed == {"CAM-QUIET"}
        assert found.states["CAM-QUIET"].stale is True

    def test_a_camera_registered_after_its_first_message_appears_without_waiting_for_the_next_read(
        self, factory: sessionmaker[Session]
    ) -> None:
        positions = LatestPositions()
        states = BrokerMapStates(factory, positions, holders_fresh_for=3600, unknown_lookup_seconds=0)
        assert states.changes(stale_after=STALE_AFTER, now=clock.now()).states == {}
        with transaction(factory) as db:
            make_device(db, serial="CAM-NEW")
        positions.apply([reading_of("CAM-NEW")])
        assert list(states.changes(stale_after=STALE_AFTER, now=clock.now()).states) == ["CAM-NEW"]


def test_a_stream_is_given_only_the_cameras_that_moved_since_its_version(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as db:
        make_device(db, serial="CAM-A")
        make_device(db, serial="CAM-B")
    positions = LatestPositions()
    shared = SharedMapRead(
        BrokerMapStates(factory, positions), stale_after=STALE_AFTER, shape=feature_text, fresh_for=0
    )
    positions.apply([reading_of("CAM-A", seconds_ago=5), reading_of("CAM-B", seconds_ago=5)])
    version, features, removed = shared.since(0)
    assert sorted(features) == ["CAM-A", "CAM-B"]
    assert removed == set()
    assert shared.since(version) == (version, {}, set())
    positions.apply([reading_of("CAM-A", lat=52.7)])
    later, features, _ = shared.since(version)
    assert later == version + 1
    assert list(features) == ["CAM-A"]
    assert json.loads(features["CAM-A"])["geometry"]["coordinates"] == [-1.8904, 52.7]


@pytest.mark.parametrize(
    ("holder", "changes"),
    [
        (("4411", 'Alex "Sandy" Smith-Ó', "RESP"), {"heading": 90.5, "event": "emergency"}),
        ((None, None, None), {"battery_pct": 7, "accuracy_m": 1e-05, "recording": True}),
    ],
)
def test_the_geojson_feature_is_written_in_its_documented_shape(
    holder: tuple[str | None, str | None, str | None], changes: dict[str, Any]
) -> None:
    collar, name, unit = holder
    camera = CameraState(
        state=reading_of("CAM-1", **changes), collar_number=collar, officer_name=name, unit=unit, stale=True
    )
    text = feature_text(camera)
    model = CameraFeatureOut.model_validate_json(text)
    assert json.loads(text) == model.model_dump(mode="json")
    assert model.properties.officer_name == name
    assert model.properties.last_seen == camera.state.ts
    assert model.geometry.coordinates == (camera.state.lon, camera.state.lat)


@pytest.fixture
def map_only_client(
    database_url: str, tmp_path: Path, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """A server process that keeps the map from its own subscription and stores nothing itself (its
    consumer is off, as in an API process when consumer processes run apart)."""
    require_broker()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        mqtt_url=MQTT_URL,
        live_consume_in_app=False,
    )
    app = create_app(settings, factory, jobs=JobRegistry())
    with TestClient(app, base_url="https://testserver", client=("127.0.0.1", 40000)) as client:
        yield client


@NEEDS_MOSQUITTO
def test_a_server_shows_what_cameras_publish_from_its_own_subscription(
    map_only_client: TestClient, factory: sessionmaker[Session]
) -> None:
    serial = f"CAM-{uuid.uuid4().hex[:6].upper()}"
    with transaction(factory) as db:
        issued_camera(db, serial=serial, collar=str(uuid.uuid4().int % 10**6))
    headers = headers_for(factory, Role.CONTROL_ROOM)
    deadline = time.monotonic() + 5
    found: list[dict[str, Any]] = []
    # The subscription is made once the app has connected: publish until the camera shows. The
    # suite's clock stands still, so each message gives its own time.
    while not found and time.monotonic() < deadline:
        earlier = clock.now() - timedelta(seconds=10)
        publish([(topic(serial), json.dumps(payload(at=earlier, recording=True)).encode())])
        time.sleep(0.1)
        features = map_only_client.get(CAMERAS, headers=headers).json()["features"]
        found = [f for f in features if f["id"] == serial]
    assert found, "the camera never reached the map"
    assert found[0]["properties"]["recording"] is True
    with reading(factory) as db:
        assert db.scalar(select(CameraLiveState).where(CameraLiveState.serial == serial)) is None
    published_at = time.monotonic()
    publish([(topic(serial), json.dumps(payload(recording=False)).encode())])
    while time.monotonic() - published_at < 1.0:
        features = map_only_client.get(CAMERAS, headers=headers, params={"recording": "false"}).json()
        if any(f["id"] == serial for f in features["features"]):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the camera's stopped recording did not reach the map within a second")
