"""Real small clips made with PyAV, uploads of them as parts in the store, and the job payload the
upload server queues."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import av
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.app import all_jobs
from openbwv.audit.models import AuditEvent
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage import INGEST_TASK, PROBE_TASK
from openbwv.footage.models import Clip, ClipSource
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM
from openbwv.storage import ObjectStore, open_store
from tests.builders import make_device, make_officer, make_pass
from tests.conftest import TEST_NOW

RECORDED_AT = TEST_NOW - timedelta(hours=3)
CREATION_TIME = "2026-11-26T04:59:58.000000Z"
GPS_TRACK = "0,52.4862,-1.8904;1,52.4863,-1.8906;2,52.4865,-1.8907"


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    rate: int = 25,
    codec: str = "libx264",
    metadata: dict[str, str] | None = None,
    seed: int = 0,
) -> bytes:
    """An MP4 of a moving colour pattern, with container ``metadata`` tags; its bytes. ``seed``
    changes the pattern, and so the bytes."""
    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update(metadata or {})
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(round(seconds * rate)):
            image = Image.new("RGB", size, ((i * 9 + seed * 40) % 256, (i * 5) % 256, 120))
            image.paste((255, 255, 255), (i * 4 % size[0], 40, i * 4 % size[0] + 30, 90))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


def demo_clip(tmp_path: Path, *, seed: int = 0) -> bytes:
    """A 2 s 320x240 H.264 clip at 25 frames a second with a creation time and a GPS track."""
    return make_video(
        tmp_path / f"clip-{seed}-{uuid.uuid4().hex[:6]}.mp4",
        metadata={"creation_time": CREATION_TIME, "gps_track": GPS_TRACK},
        seed=seed,
    )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def upload(
    store: ObjectStore,
    data: bytes,
    *,
    camera_serial: str,
    recorded_at: datetime = RECORDED_AT,
    parts: int = 3,
    device_sha256: str | None = None,
    upload_id: str | None = None,
) -> dict[str, Any]:
    """Put ``data`` in the store as an upload's parts and return the ``footage.ingest`` payload the
    upload server would queue for it (``device_sha256``: what the device claims, if not the truth)."""
    upload_id = upload_id or uuid.uuid4().hex
    step = max(1, -(-len(data) // parts))
    keys = []
    for n, start in enumerate(range(0, len(data), step)):
        key = f"uploads/{upload_id}/{n:012d}"
        anyio.run(store.put, key, _once(data[start : start + step]))
        keys.append(key)
    digest = hashlib.sha256(data).hexdigest()
    return {
        "source": "tus",
        "upload_id": upload_id,
        "parts": keys,
        "size": len(data),
        "sha256_received": digest,
        "device_serial": camera_serial,
        "metadata": {
            "filename": f"{camera_serial}_{recorded_at:%Y%m%d_%H%M%S}.mp4",
            "camera_serial": camera_serial,
            "recorded_at": recorded_at.isoformat(),
            "sha256": device_sha256 or digest,
        },
    }


def read(store: ObjectStore, key: str) -> bytes:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in store.read(key)])

    return anyio.run(collect)


def keys(store: ObjectStore, prefix: str) -> list[str]:
    async def collect() -> list[str]:
        return [key async for key in store.keys(prefix)]

    return anyio.run(collect)


def run_ingest(settings: Settings, factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """The worker's ``footage.ingest`` handler, run directly."""
    all_jobs(settings).tasks[INGEST_TASK].handler(factory, payload)


def run_probe(settings: Settings, factory: sessionmaker[Session], clip_id: int) -> None:
    """The worker's ``footage.probe`` handler, run directly."""
    all_jobs(settings).tasks[PROBE_TASK].handler(factory, {"clip_id": clip_id})


def holder_of_camera(
    factory: sessionmaker[Session], *, collar: str | None = None, since: datetime | None = None
) -> tuple[Officer, str]:
    """An officer trained on body-worn video holding a camera on personal issue since ``since``
    (a day before ``RECORDED_AT``); the officer and the camera's serial."""
    with transaction(factory) as db:
        officer = make_officer(db, collar=collar)
        make_pass(db, officer, "bwv_user", (RECORDED_AT - timedelta(days=30)).date())
        camera = make_device(db, kind="camera")
        fleet.issue_device(
            db,
            SYSTEM,
            device_serial=camera.serial,
            collar_number=officer.collar_number,
            kind="personal",
            now=since or RECORDED_AT - timedelta(days=1),
        )
    return officer, camera.serial


def clips(db: Session) -> list[Clip]:
    return list(db.scalars(select(Clip).order_by(Clip.id)))


def sources(db: Session) -> list[ClipSource]:
    return list(db.scalars(select(ClipSource).order_by(ClipSource.id)))


def events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def alerts(db: Session, rule: str) -> list[AuditEvent]:
    return [e for e in events(db, "audit:alert:raised") if e.details.get("rule") == rule]


BYTES = b"not really a video, but bytes to stream " * 10


def make_stored_clip(
    factory: sessionmaker[Session], settings: Settings, *, officer: Officer | None, held: bool = False
) -> int:
    """A clip row whose stored bytes are ``BYTES``: for rules and refusals, where the bytes need
    not be a video."""
    n = uuid.uuid4().hex
    sha = hashlib.sha256(n.encode()).hexdigest()
    anyio.run(open_store(settings).put, f"clips/{sha}", _once(BYTES))
    with transaction(factory) as db:
        clip = Clip(
            sha256=sha,
            size=len(BYTES),
            storage_key=f"clips/{sha}",
            camera_serial="CAM-PLAY",
            officer_id=officer.id if officer else None,
            review_reason="unknown_camera" if held else None,
            recorded_at=RECORDED_AT,
            ingest_state="held_for_review" if held else "ready",
        )
        db.add(clip)
        db.flush()
        return clip.id
