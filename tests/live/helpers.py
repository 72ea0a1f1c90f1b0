"""Payloads and set-up shared by the live tests."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

import av
import httpx2
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet
from openbwv.db import transaction
from openbwv.fleet import credentials
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass, make_unit

TELEMETRY = "/api/v1/live/telemetry"
FPS = 25
CAMERAS = "/api/v1/live/cameras"
MAX_AGE = timedelta(minutes=5)
# Birmingham, from the domain notes' places for the demo.
BIRMINGHAM = (52.4862, -1.8904)


def payload(*, at: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A valid telemetry payload sent at ``at`` (default: the clock's now), with ``changes``."""
    body: dict[str, Any] = {
        "ts": (at or clock.now()).isoformat(),
        "lat": BIRMINGHAM[0],
        "lon": BIRMINGHAM[1],
        "accuracy_m": 5.0,
        "recording": False,
        "battery_pct": 80,
        "storage_pct": 40,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def encoded(**changes: Any) -> bytes:
    return json.dumps(payload(**changes)).encode()


def issued_camera(db: Session, *, serial: str, collar: str, unit_code: str = "RESP") -> None:
    """A camera issued to a trained officer of the unit ``unit_code``."""
    from openbwv import people

    unit = people.get_unit(db, unit_code) or make_unit(db, code=unit_code)
    officer = make_officer(db, collar=collar, unit=unit)
    make_pass(db, officer, "bwv_user", date(2026, 1, 10))
    make_device(db, serial=serial, now=clock.now() - timedelta(days=1))
    fleet.issue_device(db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal")


def encoded_stream(seconds: int, *, size: tuple[int, int] = (160, 120)) -> bytes:
    """H.264 in MPEG-TS, a keyframe each second, each frame a different shade."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.options = {"g": str(FPS), "preset": "ultrafast", "tune": "zerolatency"}
        for n in range(seconds * FPS):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(n * 7) % 256]) * plane.buffer_size)
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r") as container:
        return sum(1 for _ in container.decode(video=0))


def chunks(data: bytes, size: int = 4096) -> list[bytes]:
    return [data[n : n + size] for n in range(0, len(data), size)]


def reporting_camera(
    factory: sessionmaker[Session], *, serial: str, collar: str, unit_code: str = "RESP"
) -> dict[str, str]:
    """A camera issued as :func:`issued_camera` issues it, and bearer headers for its own credential."""
    with transaction(factory) as db:
        issued_camera(db, serial=serial, collar=collar, unit_code=unit_code)
        _, raw = credentials.issue_credential(db, SYSTEM, serial=serial)
    return {"Authorization": f"Bearer {raw}"}


def stream_in_real_time(
    base: str, serial: str, headers: dict[str, str], stop: threading.Event, seconds: int = 12
) -> None:
    """A camera's live stream: ``seconds`` of H.264 in MPEG-TS sent to the served app at the pace it
    was recorded, until ``stop``."""
    parts = chunks(encoded_stream(seconds, size=(320, 240)))

    def body() -> Iterator[bytes]:
        for part in parts:
            if stop.is_set():
                return
            yield part
            time.sleep(seconds / len(parts))

    with httpx2.Client(timeout=60) as http:
        http.post(
            f"{base}/api/v1/live/streams/{serial}/ingest",
            content=body(),
            headers={**headers, "Content-Type": "video/mp2t"},
        )
