"""Simulated cameras: they keep to the grid of streets, their readings pass the telemetry check,
their pictures carry a clock a viewer can read back, and driven against a served app they appear on
the map and push a live stream while recording; the command refuses a fleet with no issued camera."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv.cli import build_cli
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import credentials
from openbwv.live import relay, simulator, telemetry
from openbwv.policy import SYSTEM
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.helpers import CAMERAS, issued_camera
from tests.live.test_views import control_room
from tests.live_server import serve


def test_a_camera_walks_the_streets_of_its_grid_and_its_readings_pass_the_check() -> None:
    (camera,) = simulator.cameras_for({"CAM-1": "secret"})
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    events = []
    for second in range(1, 1801):
        event = camera.tick(1.0, float(second))
        events.append(event)
        on_street = [abs(v / simulator.BLOCK_METRES - round(v / simulator.BLOCK_METRES)) < 1e-6
                     for v in (camera.east_m, camera.north_m)]  # fmt: skip
        assert any(on_street), (camera.east_m, camera.north_m)
        limit = simulator.BLOCK_METRES * simulator.BLOCKS_OUT + 1e-6
        assert abs(camera.east_m) <= limit and abs(camera.north_m) <= limit
        at = now + timedelta(seconds=second)
        reading = telemetry.parse_reading(
            camera.reading(at, event), serial="CAM-1", now=at, max_age=timedelta(minutes=5)
        )
        assert reading.recording is camera.recording
    started = [n for n, e in enumerate(events) if e == "recording_started"]
    assert started and events.count("recording_stopped") >= len(started) - 1
    centre_lat, centre_lon = camera.centre
    lat, lon = camera.position
    assert abs(lat - centre_lat) < 0.01 and abs(lon - centre_lon) < 0.02


def test_the_clock_burnt_into_a_picture_reads_back_after_h264() -> None:
    buffer = io.BytesIO()
    values = [0, 1, 2**31 + 12345, 2**32 - 1, 987_654_321]
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = *simulator.FRAME_SIZE, "yuv420p"
        for n, value in enumerate(values):
            frame = av.VideoFrame.from_image(simulator.clock_picture("CAM-1", value, (60, 80, 100)))
            frame.pts, frame.time_base = n, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        assert [simulator.read_clock(frame) for frame in container.decode(video=0)] == values


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_driven_cameras_appear_on_the_map_and_stream_while_recording(
    settings: Settings, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    with transaction(factory) as db:
        _, credential = credentials.issue_credential(db, SYSTEM, serial=SERIAL)
    viewer = control_room(factory)
    live = relay.EmbeddedRelay()
    previous = relay.provide_relay(live)
    (simulated,) = simulator.cameras_for({SERIAL: credential})
    simulated.recording_until = time.monotonic() + 3600
    stop = threading.Event()
    try:
        with serve(settings, factory) as base, httpx2.Client(base_url=base, timeout=30) as api:
            sink = simulator.HttpTelemetry(base)
            driving = threading.Thread(
                target=simulator.simulate,
                args=([simulated], sink, simulator.Streams(base, 1)),
                kwargs={"interval_s": 0.2, "stop": stop},
            )
            driving.start()
            deadline = time.monotonic() + 20
            while not live.is_live(SERIAL):
                assert time.monotonic() < deadline, "no live stream within 20 s"
                time.sleep(0.05)
            stop.set()
            driving.join(30)
            (feature,) = api.get(CAMERAS, headers=viewer).json()["features"]
    finally:
        stop.set()
        relay.provide_relay(previous)
    assert feature["properties"]["serial"] == SERIAL and feature["properties"]["recording"] is True
    lon, lat = feature["geometry"]["coordinates"]
    assert abs(lat - simulated.centre[0]) < 0.01 and abs(lon - simulated.centre[1]) < 0.02
    deadline = time.monotonic() + 10
    while live.is_live(SERIAL):
        assert time.monotonic() < deadline, "the stream did not end with the simulation"
        time.sleep(0.05)


def test_the_command_drives_the_issued_cameras_or_says_there_are_none(
    settings: Settings,
    factory: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPENBWV_DATABASE_URL", database_url)
    arguments = [
        "simulate",
        "cameras",
        "--count",
        "3",
        "--duration",
        "1",
        "--interval",
        "0.2",
        "--streams",
        "0",
    ]
    refused = CliRunner().invoke(build_cli(), [*arguments, "--server", "http://127.0.0.1:9"])
    assert refused.exit_code == 1
    assert "No camera is issued to an officer" in refused.output
    with transaction(factory) as db:
        issued_camera(db, serial="BWV-SIM-1", collar="6001")
    with serve(settings, factory) as base:
        driven = CliRunner().invoke(build_cli(), [*arguments, "--server", base])
    assert driven.exit_code == 0, driven.output
    assert "Driving 1 cameras" in driven.output
    sent = int(driven.output.split("Sent ")[1].split()[0])
    assert sent >= 1
    with factory() as db:
        state = telemetry.get_camera_state(db, "BWV-SIM-1")
    assert state is not None
