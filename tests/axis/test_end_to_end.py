"""From an Axis body worn system to stored, attributed, probed clips: the real Axis routes, driven by
the test client written from the API's text, and the real footage jobs, run by the app's worker."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.app import all_jobs, create_app
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.notifications.models import Notification
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM, Role
from openbwv.storage import open_store
from tests.axis.conftest import SYSTEM_SERIAL, register_system
from tests.axis.swift import AxisSystem
from tests.builders import make_device, make_officer, make_pass, make_user
from tests.footage.helpers import alerts, clips, events, holder_of_camera, make_video, read, sources

USER_UUID = "0b6a9d52-5e0c-4c7e-8a51-7d1c2f3e4a5b"
COLLAR = "4711"
TRIGGERED_AT = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
# Two clips of two seconds each, back to back.
CLIP_TIMES = [(TRIGGERED_AT, TRIGGERED_AT + timedelta(seconds=2)), (TRIGGERED_AT + timedelta(seconds=2), TRIGGERED_AT + timedelta(seconds=4))]  # fmt: skip
# Fixes each second from two seconds before the first clip to one second after the last.
FIXES = [(TRIGGERED_AT + timedelta(seconds=s), 52.4862 + s / 10_000, -1.8904 - s / 10_000) for s in (-2, 0, 1, 2, 3, 5)]  # fmt: skip
UNKNOWN_CAMERA = "B8A44F000999"


@pytest.fixture
def axis_app(axis_settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with every installed domain's jobs, run by its own worker."""
    app = create_app(axis_settings, factory, jobs=all_jobs(axis_settings))
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def system(axis_app: TestClient, factory: sessionmaker[Session]) -> AxisSystem:
    system = AxisSystem(axis_app, user=SYSTEM_SERIAL, key=register_system(factory))
    assert system.sign_in().status_code == 200
    return system


@dataclass(frozen=True)
class Recording:
    camera: str
    name: str
    clips: list[bytes]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _track() -> bytes:
    """The recording's GNSS track in the API's location file format."""
    entries = [
        {
            "LocationWKT": f"POINT({lon} {lat})",
            "SecondsFromStart": (at - FIXES[0][0]).total_seconds(),
            "Timestamp": _iso(at),
        }
        for at, lat, lon in FIXES
    ]
    return json.dumps({"CoordinateEntries": entries}).encode()


def _expected_track(start: datetime, stop: datetime) -> list[list[float]]:
    return [[(at - start).total_seconds(), lat, lon] for at, lat, lon in FIXES if start <= at < stop]


def record(system: AxisSystem, tmp_path: Path, *, camera: str, user_id: str = COLLAR) -> Recording:
    """What the system does: capability file read, the user and camera registered, a recording of
    two real clips and a GNSS track uploaded, then marked ``Complete``."""
    capabilities = system.call("GET", "System/Capabilities.json")
    assert capabilities.status_code == 200
    assert capabilities.json()["Store"]["StoreGNSSTrackRecording"] is True
    assert system.put_container("Users").status_code in (201, 202)
    assert system.put_object("Users", USER_UUID, b"", Name="Sam Patel", Active="True", UserID=user_id).status_code == 201  # fmt: skip
    assert system.put_container("Devices").status_code in (201, 202)
    assert system.put_object("Devices", camera, b"", Name="Camera 1", Active="True", Model="W110").status_code == 201  # fmt: skip
    name = f"{USER_UUID}_{camera}_{TRIGGERED_AT:%Y%m%dT%H%M%SZ}"
    created = system.put_container(
        name,
        BWCSerialNumber=camera,
        UserID=USER_UUID,
        TriggerOn="Button",
        TriggerOnTime=str(int(TRIGGERED_AT.timestamp())),
        TriggerOnTimeISO=_iso(TRIGGERED_AT),
        BWCModel="W110",
        Status="Transferring",
    )
    assert created.status_code == 201, created.text
    bodies = []
    for n, (start, stop) in enumerate(CLIP_TIMES):
        body = make_video(
            tmp_path / f"clip-{n}.mp4", seconds=2.0, metadata={"creation_time": _iso(start)}, seed=n
        )
        stored = system.put_object(
            name,
            f"{start:%Y%m%d_%H%M%S}_5f3a.mp4",
            body,
            StartTime=str(int(start.timestamp())),
            StartTimeISO=_iso(start),
            StopTime=str(int(stop.timestamp())),
            StopTimeISO=_iso(stop),
            ContainerType="mp4",
        )
        assert stored.status_code == 201, stored.text
        bodies.append(body)
    track = system.put_object(name, f"{TRIGGERED_AT:%Y%m%d_%H%M%S}_5f3a_{camera}_gpstrail.json", _track(), FileType="json")  # fmt: skip
    assert track.status_code == 201, track.text
    assert system.post_container(name, Status="Complete").status_code == 204
    return Recording(camera=camera, name=name, clips=bodies)


def probed_clips(factory: sessionmaker[Session], count: int, timeout: float = 60.0) -> list[Clip]:
    """The clips, once the worker has ingested and probed ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as db:
            found = list(
                db.scalars(select(Clip).where(Clip.probed_at.is_not(None)).order_by(Clip.recorded_at))
            )
            if len(found) >= count:
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} clips probed within {timeout} s")
        time.sleep(0.1)


def officer_with_pooled_camera(factory: sessionmaker[Session], *, collar: str) -> tuple[Officer, str]:
    """An officer trained on body-worn video with a pool camera checked out the day before."""
    with transaction(factory) as db:
        officer = make_officer(db, collar=collar)
        make_pass(db, officer, "bwv_user", (TRIGGERED_AT - timedelta(days=30)).date())
        camera = make_device(db, kind="camera", station="Coventry", pooled=True)
        fleet.issue_device(
            db,
            SYSTEM,
            device_serial=camera.serial,
            collar_number=collar,
            kind="pooled",
            now=TRIGGERED_AT - timedelta(days=1),
        )
    return officer, camera.serial


class TestAxisRecordingToFootage:
    def test_a_recording_is_stored_attributed_to_the_holder_probed_and_located(
        self, system: AxisSystem, factory: sessionmaker[Session], axis_settings: Settings, tmp_path: Path
    ) -> None:
        officer, camera = holder_of_camera(factory, collar=COLLAR, since=TRIGGERED_AT - timedelta(days=1))
        recording = record(system, tmp_path, camera=camera)
        stored = probed_clips(factory, 2)
        store = open_store(axis_settings)
        for clip, body, (start, stop) in zip(stored, recording.clips, CLIP_TIMES, strict=True):
            assert clip.sha256 == hashlib.sha256(body).hexdigest()
            assert read(store, clip.storage_key) == body
            assert (clip.officer_id, clip.camera_serial, clip.recorded_at) == (officer.id, camera, start)
            assert (clip.ingest_state, clip.review_reason) == ("ready", None)
            assert clip.duration_s == pytest.approx(2.0, abs=0.1)
            assert (clip.codec, clip.width, clip.height) == ("h264", 320, 240)
            assert clip.frame_rate == pytest.approx(25.0)
            assert clip.started_at == start
            assert clip.gps_track == _expected_track(start, stop)
            assert len(clip.gps_track) == 2
        with factory() as db:
            assert [(s.source_kind, s.outcome, s.notes) for s in sources(db)] == [
                ("axis", "stored", None)
            ] * 2
            assert {s.source_id.rsplit("/", 1)[0] for s in sources(db)} == {
                f"{SYSTEM_SERIAL}/{recording.name}"
            }
            assert events(db, "footage:clip:held_for_review") == []
            assert events(db, "footage:clip:attribution_disputed") == []

    def test_a_camera_not_in_the_fleet_is_stored_and_held_for_review_naming_the_suggested_officer(
        self, system: AxisSystem, factory: sessionmaker[Session], axis_settings: Settings, tmp_path: Path
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar=COLLAR)
            reviewer = make_user(db, roles=[Role.EVIDENCE_MANAGER])
        recording = record(system, tmp_path, camera=UNKNOWN_CAMERA)
        stored = probed_clips(factory, 2)
        store = open_store(axis_settings)
        for clip, body, (start, stop) in zip(stored, recording.clips, CLIP_TIMES, strict=True):
            assert read(store, clip.storage_key) == body
            assert (clip.ingest_state, clip.review_reason, clip.officer_id) == (
                "held_for_review",
                "unknown_camera",
                None,
            )
            assert clip.codec == "h264" and clip.gps_track == _expected_track(start, stop)
        with factory() as db:
            held = events(db, "footage:clip:held_for_review")
            assert sorted(e.target_id or "" for e in held) == sorted(str(c.id) for c in stored)
            assert {e.details["suggested_officer_id"] for e in held} == {officer.id}
            raised = alerts(db, "footage_held_for_review")
            assert len(raised) == 2
            summaries = [str(a.details["summary"]) for a in raised]
            assert all("not in the fleet" in s and f"names officer {COLLAR}." in s for s in summaries)
            notices = db.scalars(select(Notification).where(Notification.user_id == reviewer.id)).all()
            assert [n.kind for n in notices] == ["footage_held_for_review"] * 2
            assert [s.notes for s in sources(db)] == [
                {
                    "attribution": {
                        "finding": "unattributed",
                        "claimed_user_id": COLLAR,
                        "claimed_officer_id": officer.id,
                        "claimed_collar_number": COLLAR,
                        "holder_officer_id": None,
                        "holder_collar_number": None,
                    }
                }
            ] * 2
            assert len(clips(db)) == 2

    def test_a_user_the_force_does_not_know_is_noted_not_disputed(
        self, system: AxisSystem, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        """The body worn manager holds no User ID for the user: the recording names the system's own
        ID for them, which is no officer of ours. The holder has the clips; nothing is disputed."""
        holder, camera = officer_with_pooled_camera(factory, collar="4712")
        record(system, tmp_path, camera=camera, user_id="")
        stored = probed_clips(factory, 2)
        assert [(c.officer_id, c.ingest_state) for c in stored] == [(holder.id, "ready")] * 2
        with factory() as db:
            assert events(db, "footage:clip:attribution_disputed") == []
            assert [s.notes["attribution"] for s in sources(db) if s.notes] == [
                {
                    "finding": "unrecognised",
                    "claimed_user_id": USER_UUID,
                    "claimed_officer_id": None,
                    "claimed_collar_number": None,
                    "holder_officer_id": holder.id,
                    "holder_collar_number": "4712",
                }
            ] * 2

    def test_a_user_id_that_is_not_the_holders_is_recorded_and_the_issue_history_decides(
        self, system: AxisSystem, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        """The body worn manager says 4711 recorded; the camera was on a pooled loan to 4712."""
        with transaction(factory) as db:
            named = make_officer(db, collar=COLLAR)
        holder, camera = officer_with_pooled_camera(factory, collar="4712")
        record(system, tmp_path, camera=camera)
        stored = probed_clips(factory, 2)
        assert [(c.officer_id, c.ingest_state) for c in stored] == [(holder.id, "ready")] * 2
        with factory() as db:
            disputed = events(db, "footage:clip:attribution_disputed")
            assert sorted(e.target_id or "" for e in disputed) == sorted(str(c.id) for c in stored)
            assert "user 4711 recorded" in str(disputed[0].reason) and "4712 held" in str(disputed[0].reason)
            assert [s.notes["attribution"] for s in sources(db) if s.notes] == [
                {
                    "finding": "disputed",
                    "claimed_user_id": COLLAR,
                    "claimed_officer_id": named.id,
                    "claimed_collar_number": COLLAR,
                    "holder_officer_id": holder.id,
                    "holder_collar_number": "4712",
                }
            ] * 2
            assert events(db, "footage:clip:held_for_review") == []
