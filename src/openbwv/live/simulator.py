"""Simulated cameras for the demo and for load: each walks the streets of a town centre, starts and
stops recording, reports telemetry (HTTP with its device credential, or MQTT), and while it records
pushes a real H.264 live stream with the wall clock burnt in.

There is no street map here: the streets are a grid of blocks ``BLOCK_METRES`` apart around each
of the force's town centres, walked at a brisk pace, turning at random at each junction. Each
picture carries the time it was made twice: as text for a person, and as ``CLOCK_BITS`` black and
white squares along the top (milliseconds of the wall clock), which a viewer decodes to measure the
delay from camera to screen.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Protocol

import av
import httpx2
from paho.mqtt import client as mqtt
from PIL import Image, ImageDraw

from openbwv import clock as wall_clock
from openbwv.live.broker import parse_broker_url

log = logging.getLogger(__name__)

# The force's town centres (West Midlands), where the simulated officers patrol.
TOWN_CENTRES: Sequence[tuple[float, float]] = (
    (52.4797, -1.9027), (52.4081, -1.5106), (52.5862, -2.1286), (52.5862, -1.9829),
    (52.5087, -2.0877), (52.4130, -1.7780), (52.5187, -1.9945),
)  # fmt: skip
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180
BLOCK_METRES = 120.0
BLOCKS_OUT = 8
WALKING_M_S = 1.5
# Chance a second of starting to record, when not recording; how long a recording lasts.
START_PER_SECOND = 1 / 120
RECORDING_S = (60.0, 240.0)
FRAME_SIZE = (320, 180)
FRAMES_PER_SECOND = 15
CLOCK_BITS = 32
CLOCK_SQUARE = FRAME_SIZE[0] // CLOCK_BITS
PAUSE_NAP_S = 0.05


@dataclass
class SimulatedCamera:
    """One camera on one officer: where it is on the grid of streets, and what it is doing."""

    serial: str
    credential: str
    centre: tuple[float, float]
    rng: random.Random
    east_m: float = 0.0
    north_m: float = 0.0
    heading: int = 0
    """0 north, 90 east, 180 south, 270 west: along a street."""
    recording_until: float | None = None
    battery_pct: float = 100.0
    storage_pct: float = 10.0

    @property
    def recording(self) -> bool:
        return self.recording_until is not None

    @property
    def position(self) -> tuple[float, float]:
        lat = self.centre[0] + self.north_m / METRES_PER_DEGREE
        lon = self.centre[1] + self.east_m / (METRES_PER_DEGREE * math.cos(math.radians(self.centre[0])))
        return lat, lon

    def walk(self, seconds: float) -> None:
        """Walk along the street, turning at random at a junction, staying within the grid."""
        left = WALKING_M_S * seconds
        while left > 0:
            along = self.north_m if self.heading in (0, 180) else self.east_m
            forward = 1 if self.heading in (0, 90) else -1
            to_junction = (math.floor(along / BLOCK_METRES) + 1) * BLOCK_METRES - along
            if forward < 0:
                to_junction = along - (math.ceil(along / BLOCK_METRES) - 1) * BLOCK_METRES
            step = min(left, to_junction)
            if self.heading in (0, 180):
                self.north_m += forward * step
            else:
                self.east_m += forward * step
            left -= step
            if step == to_junction:
                self._turn()

    def _turn(self) -> None:
        limit = BLOCK_METRES * BLOCKS_OUT
        choices = [h for h in (0, 90, 180, 270) if h != (self.heading + 180) % 360]
        choices = [h for h in choices if self._stays_within(h, limit)] or [(self.heading + 180) % 360]
        self.heading = self.rng.choice(choices)

    def _stays_within(self, heading: int, limit: float) -> bool:
        north = self.north_m + {0: BLOCK_METRES, 180: -BLOCK_METRES}.get(heading, 0)
        east = self.east_m + {90: BLOCK_METRES, 270: -BLOCK_METRES}.get(heading, 0)
        return abs(north) <= limit and abs(east) <= limit

    def tick(self, seconds: float, now: float) -> str | None:
        """Move on ``seconds``; the event of starting or stopping to record, if either happened."""
        self.walk(seconds)
        self.battery_pct = max(5.0, self.battery_pct - seconds * (0.004 if self.recording else 0.001))
        if self.recording_until is not None and now >= self.recording_until:
            self.recording_until = None
            return "recording_stopped"
        if self.recording_until is None and self.rng.random() < START_PER_SECOND * seconds:
            self.recording_until = now + self.rng.uniform(*RECORDING_S)
            return "recording_started"
        return None

    def reading(self, at: datetime, event: str | None) -> dict[str, object]:
        """The telemetry payload of this moment."""
        lat, lon = self.position
        if self.recording:
            self.storage_pct = min(99.0, self.storage_pct + 0.002)
        payload: dict[str, object] = {
            "ts": at.isoformat(),
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "accuracy_m": 5.0,
            "recording": self.recording,
            "battery_pct": round(self.battery_pct, 1),
            "storage_pct": round(self.storage_pct, 1),
            "heading": self.heading,
        }
        if event is not None:
            payload["event"] = event
        return payload


def cameras_for(credentials: dict[str, str], *, seed: int = 7) -> list[SimulatedCamera]:
    """A simulated camera for each serial and its device credential, spread over the town centres,
    each starting at a junction of its own."""
    rng = random.Random(seed)
    cameras = []
    for n, (serial, credential) in enumerate(sorted(credentials.items())):
        camera = SimulatedCamera(
            serial, credential, TOWN_CENTRES[n % len(TOWN_CENTRES)], random.Random(rng.random())
        )
        camera.east_m = rng.randint(-BLOCKS_OUT, BLOCKS_OUT) * BLOCK_METRES
        camera.north_m = rng.randint(-BLOCKS_OUT, BLOCKS_OUT) * BLOCK_METRES
        camera.heading = rng.choice((0, 90, 180, 270))
        cameras.append(camera)
    return cameras


class TelemetrySink(Protocol):
    def send(self, camera: SimulatedCamera, payload: dict[str, object]) -> None: ...

    def close(self) -> None: ...


class HttpTelemetry:
    """``POST /api/v1/live/telemetry`` with each camera's own credential."""

    def __init__(self, server: str) -> None:
        self.client = httpx2.Client(base_url=server.rstrip("/"), timeout=10)

    def send(self, camera: SimulatedCamera, payload: dict[str, object]) -> None:
        try:
            answer = self.client.post(
                "/api/v1/live/telemetry",
                json=payload,
                headers={"Authorization": f"Bearer {camera.credential}"},
            )
        except httpx2.HTTPError as error:
            log.warning("camera %s: telemetry not sent: %s", camera.serial, error)
            return
        if answer.status_code != 202:
            log.warning("camera %s: telemetry answered %s %s", camera.serial, answer.status_code, answer.text)

    def close(self) -> None:
        self.client.close()


class MqttTelemetry:
    """Publishes on each camera's telemetry topic through one connection to the broker."""

    def __init__(self, url: str) -> None:
        broker = parse_broker_url(url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, camera: SimulatedCamera, payload: dict[str, object]) -> None:
        self.client.publish(f"openbwv/cameras/{camera.serial}/telemetry", json.dumps(payload), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def clock_picture(label: str, now_ms: int, colour: tuple[int, int, int]) -> Image.Image:
    """A frame: ``label`` and the wall clock as text, and the clock's milliseconds (modulo 2**32) as
    black and white squares along the top, most significant first."""
    picture = Image.new("RGB", FRAME_SIZE, colour)
    draw = ImageDraw.Draw(picture)
    for bit in range(CLOCK_BITS):
        on = (now_ms >> (CLOCK_BITS - 1 - bit)) & 1
        x = bit * CLOCK_SQUARE
        draw.rectangle(
            (x, 0, x + CLOCK_SQUARE - 1, CLOCK_SQUARE - 1), fill=(255, 255, 255) if on else (0, 0, 0)
        )
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    draw.text((8, CLOCK_SQUARE + 8), f"{label}\n{stamp} UTC", fill=(255, 255, 255))
    return picture


def read_clock(frame: av.VideoFrame) -> int:
    """The milliseconds a ``clock_picture`` frame carries in its squares (after encoding, each square
    read at its centre as black or white)."""
    grey = frame.to_image().convert("L")
    value = 0
    for bit in range(CLOCK_BITS):
        centre = (bit * CLOCK_SQUARE + CLOCK_SQUARE // 2, CLOCK_SQUARE // 2)
        value = value << 1 | (1 if grey.getpixel(centre) > 127 else 0)
    return value


def live_stream(label: str, colour: tuple[int, int, int], stop: threading.Event) -> Iterator[bytes]:
    """H.264 in MPEG-TS, made in real time until ``stop``: a keyframe a second, each frame the
    wall clock it was made at."""
    chunks: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    class _Sink:
        def write(self, data: bytes) -> int:
            chunks.put(bytes(data))
            return len(data)

    with av.open(_Sink(), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=FRAMES_PER_SECOND)
        stream.width, stream.height, stream.pix_fmt = *FRAME_SIZE, "yuv420p"
        stream.options = {"g": str(FRAMES_PER_SECOND), "preset": "ultrafast", "tune": "zerolatency"}
        start = time.monotonic()
        n = 0
        while not stop.is_set():
            delay = start + n / FRAMES_PER_SECOND - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            picture = clock_picture(label, int(time.time() * 1000) % 2**CLOCK_BITS, colour)
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = n, Fraction(1, FRAMES_PER_SECOND)
            for packet in stream.encode(frame):
                container.mux(packet)
            n += 1
            while not chunks.empty():
                yield chunks.get()
        for packet in stream.encode():
            container.mux(packet)
    while not chunks.empty():
        yield chunks.get()


@dataclass
class Streams:
    """The live streams of recording cameras, at most ``limit`` at once (each costs an encoder)."""

    server: str
    limit: int
    running: dict[str, threading.Event] = field(default_factory=dict)

    def start(self, camera: SimulatedCamera) -> None:
        if self.limit <= 0 or len(self.running) >= self.limit or camera.serial in self.running:
            return
        stop = self.running[camera.serial] = threading.Event()
        threading.Thread(target=self._send, args=(camera, stop), daemon=True).start()

    def stop(self, camera: SimulatedCamera) -> None:
        stop = self.running.pop(camera.serial, None)
        if stop is not None:
            stop.set()

    def stop_all(self) -> None:
        for serial in list(self.running):
            self.running.pop(serial).set()

    def _send(self, camera: SimulatedCamera, stop: threading.Event) -> None:
        colour = tuple(camera.rng.randint(30, 120) for _ in range(3))
        body = live_stream(camera.serial, colour, stop)  # type: ignore[arg-type]
        try:
            with httpx2.Client(timeout=None) as client:
                answer = client.post(
                    f"{self.server.rstrip('/')}/api/v1/live/streams/{camera.serial}/ingest",
                    content=body,
                    headers={"Authorization": f"Bearer {camera.credential}", "Content-Type": "video/mp2t"},
                )
            if answer.status_code != 204:
                log.info(
                    "camera %s: live stream answered %s %s", camera.serial, answer.status_code, answer.text
                )
        except httpx2.HTTPError as error:
            log.info("camera %s: live stream ended: %s", camera.serial, error)
        finally:
            stop.set()
            if self.running.get(camera.serial) is stop:
                self.running.pop(camera.serial, None)


def _paused(stop: threading.Event, until: float, clock: Callable[[], float]) -> bool:
    """Sleep until ``until`` in short naps, checking ``stop`` between them; whether to go on. Naps,
    not a timed wait on ``stop``: a thread's timed wait never ends where the clock is shifted (the
    suite's run 400 days ahead), while a sleep does."""
    while not stop.is_set():
        left = until - clock()
        if left <= 0:
            return True
        time.sleep(min(left, PAUSE_NAP_S))
    return False


def simulate(
    cameras: Sequence[SimulatedCamera],
    sink: TelemetrySink,
    streams: Streams,
    *,
    interval_s: float,
    stop: threading.Event,
    duration_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Move every camera each ``interval_s`` and report it, starting and stopping live streams as
    cameras start and stop recording, until ``stop`` (or ``duration_s`` has passed); the number of
    readings sent."""
    sent = 0
    last = clock()
    ends = last + duration_s if duration_s else math.inf
    try:
        while _paused(stop, last + interval_s, clock) and clock() < ends:
            now = clock()
            elapsed, last = now - last, now
            at = wall_clock.now()
            for camera in cameras:
                event = camera.tick(elapsed, now)
                sink.send(camera, camera.reading(at, event))
                sent += 1
                if camera.recording:
                    streams.start(camera)
                else:
                    streams.stop(camera)
    finally:
        streams.stop_all()
        sink.close()
    return sent
