"""Automatic recording when a Taser is armed, on both databases: an armed message published to the real
Mosquitto broker makes the service tell the officer's camera and the cameras within the radius, through
real MQTT subscribers; the radius and the freshness of positions are the force's settings."""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gmqtt import Client
from paho.mqtt import client as mqtt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet
from openbwv.app import create_app
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.domains import JobContext
from openbwv.live import command_topic, get_camera_state, receive_readings
from openbwv.live.broker import Broker
from openbwv.live.commands import MqttCameraCommands
from openbwv.policy import SYSTEM, Role
from openbwv.taser import recording
from openbwv.taser.device_logs.service import import_device_log
from openbwv.taser.domain import DOMAIN
from openbwv.taser.models import RecordCommand
from openbwv.taser.settings import set_setting
from tests.broker import BROKER, MQTT_URL, NEEDS_MOSQUITTO, require_broker
from tests.builders import device_headers_for, headers_for, make_device, make_pass
from tests.live.helpers import MAX_AGE, TELEMETRY, encoded
from tests.taser.builders import make_taser_holder
from tests.taser.device_log_builders import as_json, event

# Birmingham city centre, and points due north of it: a degree of latitude is about 111.2 km.
HERE = (52.4862, -1.8904)
METRES_PER_DEGREE = 111_195.0
RECORD_COMMANDS = "/api/v1/taser/record-commands"
# The consumers of these tests hear every camera's telemetry on the broker (as in tests/live/test_mqtt).
pytestmark = pytest.mark.xdist_group("mqtt-telemetry")


def north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / METRES_PER_DEGREE, HERE[1]


def serial(name: str) -> str:
    """A serial of the test's own: other tests on the same broker hear none of its commands."""
    return f"{name}-{uuid.uuid4().hex[:6].upper()}"


def place(
    db: Session, camera: str, at: tuple[float, float], *, ts: datetime | None = None, **more: Any
) -> None:
    """The camera ``camera`` (made if new) says it is at ``at`` at ``ts`` (default: now), through live."""
    if fleet.get_device(db, camera) is None:
        make_device(db, serial=camera)
    body = encoded(at=ts, lat=at[0], lon=at[1], **more)
    outcome = receive_readings(db, [(camera, body)], max_age=MAX_AGE, now=ts)
    assert not outcome.refused, outcome.refused


def commanded(db: Session) -> dict[str, str]:
    """Every camera told to record, with why."""
    return dict(db.execute(select(RecordCommand.camera_serial, RecordCommand.reason)).all())


def arm(db: Session, camera: str, **overrides: Any) -> list[RecordCommand]:
    """The camera ``camera`` reports, over telemetry, that its officer armed a Taser here, now."""
    arguments: dict[str, Any] = {
        "source": "telemetry",
        "camera_serial": camera,
        "armed_at": clock.now(),
        "lat": HERE[0],
        "lon": HERE[1],
    }
    return recording.start_recording(db, **{**arguments, **overrides})


class Subscriber:
    """A real MQTT client subscribed to some cameras' command topics, collecting what arrives."""

    def __init__(self, serials: list[str]) -> None:
        self.received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.received.put((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *_: subscribed.put(True)
        self.client.connect(BROKER.host, BROKER.port)
        self.client.loop_start()
        self.client.subscribe([(command_topic(s), 1) for s in serials])
        subscribed.get(timeout=5)

    def take(self, count: int, *, within: float = 10.0) -> dict[str, dict[str, Any]]:
        """The first ``count`` messages, by topic, failing past ``within`` seconds."""
        deadline = time.monotonic() + within
        found: dict[str, dict[str, Any]] = {}
        while len(found) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"only {sorted(found)} arrived within {within} s")
            try:
                topic, message = self.received.get(timeout=left)
            except queue.Empty:
                continue
            assert topic not in found, f"{topic} was told twice"
            found[topic] = message
        return found

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(*messages: tuple[str, bytes]) -> None:
    async def send() -> None:
        client = Client(f"openbwv-test-{uuid.uuid4().hex[:8]}")
        await client.connect(BROKER.host, BROKER.port)
        for topic, body in messages:
            client.publish(topic, body, qos=1)
        await asyncio.sleep(0.05)  # lets the client's network loop flush before it disconnects
        await client.disconnect()

    asyncio.run(send())


def telemetry_topic(camera: str) -> str:
    return f"openbwv/cameras/{camera}/telemetry"


def sent(factory: sessionmaker[Session]) -> int:
    """How many commands the broker has taken."""
    with factory() as db:
        return db.scalar(select(func.count()).where(RecordCommand.sent_at.is_not(None))) or 0


def stored(factory: sessionmaker[Session], camera: str) -> bool:
    """Whether live has stored a message of ``camera``."""
    with factory() as db:
        return get_camera_state(db, camera) is not None


def wait_until(condition: Callable[[], bool], *, within: float = 10.0, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {within} s")
        time.sleep(0.02)


@pytest.fixture
def recording_app(database_url: str, tmp_path: Path, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app consuming telemetry from the broker in a group of the test's own, and running the taser
    domain's jobs itself (on either database) so that armings are acted on."""
    require_broker()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        mqtt_url=MQTT_URL,
        live_mqtt_group=f"test-{uuid.uuid4().hex[:12]}",
        run_worker_in_process=True,
    )
    jobs = DOMAIN.job_registry(JobContext(settings))
    with TestClient(create_app(settings, factory, jobs=jobs), base_url="https://testserver") as client:
        yield client


def consumer_ready(factory: sessionmaker[Session]) -> None:
    """Publish a camera's position, 10 km off, until it is stored: then the consumer has subscribed."""
    camera = serial("WARM")
    with transaction(factory) as db:
        make_device(db, serial=camera)
    for attempt in range(100):
        publish(
            (
                telemetry_topic(camera),
                encoded(at=clock.now() - timedelta(seconds=100 - attempt), lat=north(10_000)[0]),
            )
        )
        with factory() as db:
            if get_camera_state(db, camera) is not None:
                return
        time.sleep(0.1)
    pytest.fail("the consumer never took a message")


@NEEDS_MOSQUITTO
class TestThroughTheBroker:
    def test_an_armed_taser_tells_its_camera_and_the_one_100_m_away_but_not_the_one_1_km_away(
        self, recording_app: TestClient, factory: sessionmaker[Session]
    ) -> None:
        own, near, far = serial("OWN"), serial("NEAR"), serial("FAR")
        with transaction(factory) as db:
            make_device(db, serial=own)
            place(db, near, north(100), ts=clock.now() - timedelta(seconds=10))
            place(db, far, north(1_000), ts=clock.now() - timedelta(seconds=10))
        consumer_ready(factory)
        subscriber = Subscriber([own, near, far])
        try:
            armed_at = clock.now()
            publish((telemetry_topic(own), encoded(at=armed_at, event="taser_armed")))
            told = subscriber.take(2)
            with factory() as db:
                assert commanded(db) == {own: "own_camera", near: "within_radius"}
            wait_until(lambda: sent(factory) == 2, what="both commands recorded as sent")
            assert subscriber.received.empty()  # nothing for the camera 1 km away
        finally:
            subscriber.close()
        assert set(told) == {command_topic(own), command_topic(near)}
        message = told[command_topic(near)]
        assert message["command"] == "record" and message["reason"] == "taser_armed"
        assert message["armed_at"] == armed_at.isoformat() and message["reported_by"] == own

    def test_the_same_armed_message_delivered_twice_tells_each_camera_once(
        self, recording_app: TestClient, factory: sessionmaker[Session]
    ) -> None:
        own, near, sentinel = serial("OWN"), serial("NEAR"), serial("LAST")
        with transaction(factory) as db:
            make_device(db, serial=own)
            make_device(db, serial=sentinel)
            place(db, near, north(50), ts=clock.now() - timedelta(seconds=5))
        consumer_ready(factory)
        subscriber = Subscriber([own, near])
        try:
            armed = (telemetry_topic(own), encoded(event="taser_armed"))
            # The sentinel (10 km off), published last, is stored after both copies have been taken.
            publish(armed, armed, (telemetry_topic(sentinel), encoded(lat=north(10_000)[0])))
            subscriber.take(2)
            wait_until(lambda: stored(factory, sentinel), what="the sentinel stored")
            wait_until(lambda: sent(factory) == 2, what="both commands recorded as sent")
            with factory() as db:
                assert commanded(db) == {own: "own_camera", near: "within_radius"}
                events = db.scalar(
                    select(func.count()).where(AuditEvent.action == AuditAction.TASER_RECORD_COMMANDED)
                )
                assert events == 1
            assert subscriber.received.empty()
        finally:
            subscriber.close()

    def test_an_armed_message_over_http_tells_the_cameras_too(
        self, recording_app: TestClient, factory: sessionmaker[Session]
    ) -> None:
        own, near = serial("OWN"), serial("NEAR")
        headers = device_headers_for(factory, serial=own)
        with transaction(factory) as db:
            place(db, near, north(100), ts=clock.now() - timedelta(seconds=10))
        subscriber = Subscriber([own, near])
        try:
            answer = recording_app.post(TELEMETRY, content=encoded(event="taser_armed"), headers=headers)
            assert answer.status_code == 202, answer.text
            told = subscriber.take(2)
        finally:
            subscriber.close()
        assert {topic: message["command"] for topic, message in told.items()} == {
            command_topic(own): "record",
            command_topic(near): "record",
        }


class TestWhichCameras:
    def test_a_camera_whose_position_is_hours_old_is_not_told(self, db: Session, clock: FixedClock) -> None:
        own, gone_quiet = serial("OWN"), serial("QUIET")
        now = clock.now()
        make_device(db, serial=own)
        clock.set(now - timedelta(hours=3))
        place(db, gone_quiet, north(50))
        clock.set(now)
        arm(db, own)
        assert commanded(db) == {own: "own_camera"}

    def test_changing_the_radius_changes_who_is_told(self, db: Session) -> None:
        own, at_250, at_400 = serial("OWN"), serial("M250"), serial("M400")
        make_device(db, serial=own)
        place(db, at_250, north(250))
        place(db, at_400, north(400))
        arm(db, own)
        assert commanded(db) == {own: "own_camera", at_250: "within_radius"}
        set_setting(db, SYSTEM, "record_radius_m", 500)
        arm(db, own, armed_at=clock.now() + timedelta(seconds=1))
        assert set(commanded(db)) == {own, at_250, at_400}
        set_setting(db, SYSTEM, "record_radius_m", 100)
        arm(db, own, armed_at=clock.now() + timedelta(seconds=2))
        last = db.scalars(select(RecordCommand).where(RecordCommand.radius_m == 100)).all()
        assert [command.camera_serial for command in last] == [own]

    def test_distances_and_the_radius_are_kept_with_each_command(self, db: Session) -> None:
        own, near = serial("OWN"), serial("NEAR")
        place(db, own, HERE)
        place(db, near, north(100))
        made = arm(db, own)
        assert [(c.camera_serial, c.reason, c.radius_m) for c in made] == [
            (own, "own_camera", 300),
            (near, "within_radius", 300),
        ]
        assert made[0].distance_m == pytest.approx(0, abs=0.5)
        assert made[1].distance_m == pytest.approx(100, abs=1)

    def test_an_arming_acted_on_twice_commands_nobody_twice(self, db: Session) -> None:
        own, near = serial("OWN"), serial("NEAR")
        make_device(db, serial=own)
        place(db, near, north(100))
        assert len(arm(db, own)) == 2
        assert arm(db, own) == []
        assert len(commanded(db)) == 2

    def test_two_workers_acting_on_one_arming_at_once_make_one_set(
        self, factory: sessionmaker[Session]
    ) -> None:
        own, near = serial("OWN"), serial("NEAR")
        with transaction(factory) as db:
            make_device(db, serial=own)
            place(db, near, north(100))
        armed_at = clock.now()
        start = threading.Barrier(2)
        made: list[int] = []

        def act() -> None:
            start.wait(timeout=10)
            with transaction(factory) as db:
                made.append(len(arm(db, own, armed_at=armed_at)))

        workers = [threading.Thread(target=act) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert sorted(made) == [0, 2]
        with factory() as db:
            assert len(commanded(db)) == 2

    def test_an_arming_too_old_to_act_on_tells_nobody(self, db: Session) -> None:
        own = serial("OWN")
        make_device(db, serial=own)
        assert arm(db, own, armed_at=clock.now() - timedelta(minutes=10)) == []
        assert commanded(db) == {}

    def test_an_arming_from_the_tasers_log_tells_its_holders_camera_where_that_camera_is(
        self, db: Session
    ) -> None:
        officer = make_taser_holder(db, collar="7301")
        make_pass(db, officer, "bwv_user", (clock.now() - timedelta(days=30)).date())
        camera, near = serial("OWN"), serial("NEAR")
        make_device(db, serial=camera)
        fleet.issue_device(
            db,
            SYSTEM,
            device_serial=camera,
            collar_number=officer.collar_number,
            kind="personal",
            now=clock.now() - timedelta(hours=1),
        )
        place(db, camera, HERE)
        place(db, near, north(120))
        made = recording.start_recording(
            db, source="device_log", taser_serial="TS-7301", armed_at=clock.now()
        )
        assert {(c.camera_serial, c.reason) for c in made} == {
            (camera, "own_camera"),
            (near, "within_radius"),
        }
        assert all(c.reported_by == "TS-7301" and c.taser_serial == "TS-7301" for c in made)

    def test_an_arming_in_an_imported_log_tells_the_cameras_only_while_it_is_recent(
        self, db: Session
    ) -> None:
        officer = make_taser_holder(db, collar="7302")
        make_pass(db, officer, "bwv_user", (clock.now() - timedelta(days=30)).date())
        camera = serial("OWN")
        make_device(db, serial=camera)
        fleet.issue_device(
            db,
            SYSTEM,
            device_serial=camera,
            collar_number=officer.collar_number,
            kind="personal",
            now=clock.now() - timedelta(hours=1),
        )
        place(db, camera, HERE)
        now = clock.now().replace(microsecond=0)
        old_log = as_json([event("TS-7302", now - timedelta(hours=3), "Arm")])
        import_device_log(db, SYSTEM, content=old_log, log_format="json", now=now)
        assert commanded(db) == {}
        fresh_log = as_json([event("TS-7302", now - timedelta(seconds=20), "Arm")])
        import_device_log(db, SYSTEM, content=fresh_log, log_format="json", now=now)
        assert set(commanded(db)) == {camera}


class TestSending:
    def test_a_broker_that_cannot_be_reached_is_recorded_against_the_command(
        self, factory: sessionmaker[Session]
    ) -> None:
        own = serial("OWN")
        with transaction(factory) as db:
            make_device(db, serial=own)
            ids = [c.id for c in arm(db, own)]
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        recording.send_record_commands(factory, MqttCameraCommands(Broker("127.0.0.1", port, tls=False)), ids)
        with factory() as db:
            [command] = db.scalars(select(RecordCommand)).all()
        assert command.sent_at is None
        assert command.failure is not None and f"127.0.0.1:{port}" in command.failure

    @NEEDS_MOSQUITTO
    def test_a_command_left_unsent_past_the_window_is_not_sent(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        own = serial("OWN")
        with transaction(factory) as db:
            make_device(db, serial=own)
            ids = [c.id for c in arm(db, own)]
        clock.advance(timedelta(minutes=5))
        subscriber = Subscriber([own])
        try:
            recording.send_record_commands(factory, MqttCameraCommands(BROKER), ids)
        finally:
            subscriber.close()
        with factory() as db:
            [command] = db.scalars(select(RecordCommand)).all()
            assert recording.unsent_command_ids(db) == []
        assert command.sent_at is None and command.failure is not None and "too long ago" in command.failure
        assert subscriber.received.empty()


class TestReadingCommands:
    def test_supervisors_and_professional_standards_read_who_was_told(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        own, near = serial("OWN"), serial("NEAR")
        with transaction(factory) as db:
            make_device(db, serial=own)
            place(db, near, north(100))
            arm(db, own)
        for role in (Role.SUPERVISOR, Role.PROFESSIONAL_STANDARDS):
            answer = client.get(RECORD_COMMANDS, params={"serial": own}, headers=headers_for(factory, role))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["total"] == 2
            assert [(i["camera_serial"], i["reason"]) for i in body["items"]] == [
                (own, "own_camera"),
                (near, "within_radius"),
            ]

    def test_a_time_filter_leaves_out_earlier_armings(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        own = serial("OWN")
        with transaction(factory) as db:
            make_device(db, serial=own)
            arm(db, own)
        later = (clock.now() + timedelta(seconds=1)).isoformat()
        answer = client.get(
            RECORD_COMMANDS, params={"since": later}, headers=headers_for(factory, Role.SUPERVISOR)
        )
        assert answer.status_code == 200 and answer.json()["total"] == 0

    def test_anonymous_is_401_and_an_officer_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get(RECORD_COMMANDS).status_code == 401
        assert client.get(RECORD_COMMANDS, headers=headers_for(factory, Role.OFFICER)).status_code == 403

    def test_a_time_without_its_zone_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        answer = client.get(
            RECORD_COMMANDS,
            params={"since": "2026-11-26T08:00:00"},
            headers=headers_for(factory, Role.SUPERVISOR),
        )
        assert answer.status_code == 422
