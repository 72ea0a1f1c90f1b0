"""What a clip's file holds, read with PyAV, and the pictures that show it: a poster frame and a strip
of thumbnails. CPU-heavy, so it runs in a small pool of processes, each reading the clip from the
object store by ranges: PyAV reads the index and the frames it decodes, not the whole file.

A GPS track travels in the container's metadata, the convention the demo cameras write:

- ``gps_track``: fixes separated by ``;``, each ``seconds from the start,latitude,longitude`` in
  decimal degrees (``0,52.4862,-1.8904;1.0,52.4863,-1.8905``);
- else ``location`` (ISO 6709, as phones write it: ``+52.4862-001.8904/``): one fix at the start.

MP4 keeps such tags when muxed with ``movflags=use_metadata_tags``.
"""

from __future__ import annotations

import io
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, BinaryIO, cast

import av
from PIL import Image

from openbwv.config import Settings
from openbwv.storage import open_store
from openbwv.storage.files import StoredFile

POSTER_WIDTH = 640
THUMB_HEIGHT = 90
THUMB_COUNT = 8
JPEG_QUALITY = 80
# At most this many files are probed at once in each process that runs footage jobs.
POOL_SIZE = 2

_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class ProbeResult:
    """The facts and pictures of one file, or why it could not be read (``error``)."""

    error: str | None = None
    duration_s: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    created_at: datetime | None = None
    gps_track: list[list[float]] | None = None
    poster_jpeg: bytes | None = None
    thumbnails_jpeg: bytes | None = None


def parse_gps(metadata: dict[str, str]) -> list[list[float]] | None:
    """The file's GPS track under the convention above, or None when it carries none (or garbage)."""
    track = metadata.get("gps_track")
    if track:
        fixes = []
        for sample in track.split(";"):
            parts = sample.strip().split(",")
            if len(parts) != 3:
                continue
            try:
                t, lat, lon = (float(p) for p in parts)
            except ValueError:
                continue
            if -90 <= lat <= 90 and -180 <= lon <= 180 and t >= 0:
                fixes.append([t, lat, lon])
        return fixes or None
    location = _ISO6709.match(metadata.get("location", "").strip())
    if location:
        lat, lon = float(location.group(1)), float(location.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return [[0.0, lat, lon]]
    return None


def _creation_time(metadata: dict[str, str]) -> datetime | None:
    value = metadata.get("creation_time")
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _frame_at(container: Any, stream: Any, seconds: float) -> Image.Image | None:
    """The first frame decoded at or after the keyframe before ``seconds``."""
    if stream.time_base is not None and seconds > 0:
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
        image: Image.Image = frame.to_image()
        return image
    return None


def _pictures(container: Any, duration: float | None) -> tuple[bytes | None, bytes | None]:
    """A poster frame (a tenth of the way in) and a strip of evenly spaced thumbnails."""
    span = duration or 0.0
    stream = container.streams.video[0]
    # Each picture is the first frame after a seek: slice threads give a frame as soon as its packet
    # is in, where frame threads decode several to give one.
    stream.thread_type = "SLICE"
    poster = _frame_at(container, stream, span / 10)
    if poster is None:
        return None, None
    poster.thumbnail((POSTER_WIDTH, POSTER_WIDTH))
    thumbs = []
    for i in range(THUMB_COUNT):
        frame = _frame_at(container, stream, span * i / THUMB_COUNT)
        if frame is None:
            break
        width = max(1, round(frame.width * THUMB_HEIGHT / max(frame.height, 1)))
        thumbs.append(frame.resize((width, THUMB_HEIGHT)))
    strip = Image.new("RGB", (sum(t.width for t in thumbs), THUMB_HEIGHT))
    x = 0
    for thumb in thumbs:
        strip.paste(thumb, (x, 0))
        x += thumb.width
    return _jpeg(poster), _jpeg(strip) if thumbs else None


def probe_file(file: str | BinaryIO) -> ProbeResult:
    """Read ``file`` (a path, or a seekable file) with PyAV: never raises for a file it cannot read,
    says why in ``error``."""
    try:
        with av.open(file, mode="r") as container:
            if not container.streams.video:
                return ProbeResult(error="the file has no video stream")
            stream = container.streams.video[0]
            context = stream.codec_context
            metadata = dict(container.metadata)
            duration: float | None = None
            if container.duration is not None:
                duration = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            rate: Fraction | None = stream.average_rate or stream.guessed_rate
            facts = ProbeResult(
                duration_s=duration,
                codec=context.name,
                width=context.width or None,
                height=context.height or None,
                frame_rate=float(rate) if rate else None,
                created_at=_creation_time(metadata),
                gps_track=parse_gps(metadata),
            )
            poster, thumbnails = _pictures(container, duration)
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        return ProbeResult(error=f"{type(exc).__name__}: {exc}"[:500])
    if poster is None:
        return ProbeResult(error="no video frame could be decoded")
    return ProbeResult(
        duration_s=facts.duration_s,
        codec=facts.codec,
        width=facts.width,
        height=facts.height,
        frame_rate=facts.frame_rate,
        created_at=facts.created_at,
        gps_track=facts.gps_track,
        poster_jpeg=poster,
        thumbnails_jpeg=thumbnails,
    )


def probe_stored(settings: Settings, key: str) -> ProbeResult:
    """``probe_file`` on the object ``key`` of the store ``settings`` name, read by ranges."""
    try:
        file = StoredFile(open_store(settings), key)
    except (FileNotFoundError, OSError) as exc:
        return ProbeResult(error=f"{type(exc).__name__}: {exc}"[:500])
    with file:
        return probe_file(cast(BinaryIO, file))


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ProcessPoolExecutor:
    """This process's probe pool, started on first use. Spawned, not forked: the worker that asks
    holds threads, an event loop and database connections a fork would copy."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=POOL_SIZE, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def probe_in_pool(settings: Settings, key: str) -> ProbeResult:
    """``probe_stored`` in the pool, waiting for its answer. A file that kills the process probing it
    is a file that cannot be read; the next probe gets a fresh pool."""
    global _pool
    executor = pool()
    try:
        return executor.submit(probe_stored, settings, key).result()
    except BrokenProcessPool:
        with _pool_lock:
            if _pool is executor:
                _pool = None
        executor.shutdown(wait=False)
        return ProbeResult(error="the process reading the file stopped (the file may be malformed)")
