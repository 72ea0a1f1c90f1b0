"""The demo force's footage: a few thousand clips over the last 60 days, so that every footage page
has something real on it.

The rows point at a few dozen real short clips made here with PyAV, yet no two rows share bytes:
each row's object is a base clip followed by a top-level MP4 ``free`` box carrying the row's number
(players and the probe skip it; the duration is unchanged), so its ``sha256`` is its own and the
storage check verifies it. Each row has its own poster and thumbnail strip (the base clip's, made by
the probe's own code), so retention destroying one clip deletes nothing another row names.

Rows are attributed from fleet's issue history (``attribute``), as ingest attributes: personal
cameras over the whole period, pool cameras during the shifts they were checked out; a few come from
cameras not in the fleet and are held for review. Tags, evidence flags, legal holds and case links
go through the tagging services as ``DEMO_ACTOR``, so each has its audit event. About a third of the
clips are untagged, and a quarter of those (and of the non-evidential ones) are due for deletion
within the week; no clip is past its deletion date, as if the retention job had run last night.

Idempotent: once one demo clip exists, nothing is added.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import struct
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import anyio
import av
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, fleet
from openbwv.audit import AuditAction, Target
from openbwv.democam import CENTRES
from openbwv.footage import place, tagging
from openbwv.footage import probe as probing
from openbwv.footage.ingest import clip_key
from openbwv.footage.models import Clip
from openbwv.footage.review import hold_for_review
from openbwv.footage.service import Attribution, attribute
from openbwv.policy import Actor, Role
from openbwv.storage import ObjectStore

# Who tags the demo footage: the seeding, acting as an evidence manager would.
DEMO_ACTOR = Actor(username="system:demo", roles=frozenset({Role.EVIDENCE_MANAGER}))
DEMO_DAYS = 60
DEMO_CLIP_COUNT = 2500
BASE_CLIP_COUNT = 24
# The last segment of a demo clip's storage key (an ingested one names its source there).
DEMO_SOURCE = "demo"
SIZE = (320, 180)
RATE = 12
# Cameras that are not in the fleet: their clips are held for review.
UNKNOWN_CAMERAS = ("AXB3-X6003127", "AXB3-X6011894", "RVL-D7-40215")
NON_EVIDENTIAL_DAYS = 31
DUE_SOON_DAYS = 7
POOL_SHARE = 0.25
NO_GPS_SHARE = 0.04
_SHAPES = ("rectangle", "ellipse", "bar")


@dataclass(frozen=True)
class BaseClip:
    """One real clip the demo rows point at, with what the probe found in it."""

    data: bytes
    probe: probing.ProbeResult

    def variant(self, number: int) -> tuple[bytes, str]:
        """The clip with a ``free`` box naming demo row ``number`` after its last box, and its
        SHA-256."""
        box = free_box(f"openbwv demo clip {number:06d}".encode())
        digest = hashlib.sha256(self.data)
        digest.update(box)
        return self.data + box, digest.hexdigest()


def free_box(payload: bytes) -> bytes:
    """An ISO BMFF ``free`` box holding ``payload``: space every reader skips."""
    return struct.pack(">I4s", 8 + len(payload), b"free") + payload


def make_base_clip(number: int, *, seconds: int) -> BaseClip:
    """A ``seconds`` long 320x180 H.264 MP4 of a moving pattern that ``number`` varies, probed."""
    rng = random.Random(f"openbwv demo footage {number}")
    ground = tuple(rng.randrange(40, 200) for _ in range(3))
    ink = tuple(255 - c for c in ground)
    shape, speed = _SHAPES[number % len(_SHAPES)], rng.choice((3, 4, 6, 8))
    caption = f"openbwv demo footage {number + 1:02d}"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        # One thread each: the clips are made two at a time, and a single-threaded encoder's bytes do
        # not depend on the machine.
        stream = out.add_stream(
            "libx264", rate=RATE, options={"preset": "superfast", "crf": "30", "threads": "1"}
        )
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        for i in range(seconds * RATE):
            shade = tuple((c + i * 2) % 256 for c in ground)
            image = Image.new("RGB", SIZE, shade)
            draw = ImageDraw.Draw(image)
            x, y = (i * speed) % SIZE[0], 40 + round(30 * math.sin(i / 6))
            if shape == "rectangle":
                draw.rectangle((x, y, x + 44, y + 70), fill=ink)
            elif shape == "ellipse":
                draw.ellipse((x, y, x + 60, y + 60), fill=ink)
            else:
                draw.rectangle((0, y, SIZE[0], y + 16), fill=ink)
            draw.rectangle((0, SIZE[1] - 18, SIZE[0], SIZE[1]), fill=(0, 0, 0))
            draw.text((6, SIZE[1] - 15), caption, fill=(255, 255, 255), font=_font())
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = buffer.getvalue()
    return BaseClip(data, probing.probe_file(io.BytesIO(data)))


@cache
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def make_base_clips(count: int = BASE_CLIP_COUNT) -> list[BaseClip]:
    """``count`` base clips of 3 to 6 seconds, made two at a time (PyAV encodes and decodes outside
    the GIL)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda n: make_base_clip(n, seconds=3 + n % 4), range(count)))


@dataclass
class _Planned:
    """One demo row before it is written: when, which camera, which base clip, and how it is tagged."""

    number: int
    camera_serial: str
    station: str | None
    recorded_at: datetime
    base: int
    officer_id: int | None
    """Who held the camera then, from the issue history period the moment was chosen in; None for a
    camera nobody held (``attribute`` then says why the clip is held for review)."""
    category: str | None = None
    incident_number: str | None = None
    evidence: bool = False
    hold: bool = False
    case_reference: str | None = None
    place: tuple[float, float] | None = None
    """Where its track starts; None for a walk near the station's town centre."""


@dataclass(frozen=True)
class _Mix:
    held: int
    evidence: int
    holds: int
    cases: int
    untagged: int
    non_evidential: int
    evidential: int


def _mix(count: int) -> _Mix:
    """How ``count`` clips divide: a handful held for review, about a third untagged, a sixth
    non-evidential, the rest in evidential categories, of which some 5% of all flagged as evidence,
    a few under legal hold and a few linked to cases. Each part has at least one clip."""
    held = max(1, count // 500)
    untagged = max(1, count // 3)
    non_evidential = max(1, count // 6)
    evidential = max(1, count - held - untagged - non_evidential)
    return _Mix(
        held=held,
        evidence=max(1, count // 20),
        holds=max(1, count // 250),
        cases=max(1, count // 150),
        untagged=untagged,
        non_evidential=non_evidential,
        evidential=evidential,
    )


def _when(
    periods: Sequence[fleet.IssuePeriod], earliest: datetime, latest: datetime, rng: random.Random
) -> tuple[fleet.IssuePeriod, datetime] | None:
    """A period of the issue history overlapping ``earliest``..``latest``, and a moment in both."""
    overlapping = [
        p for p in periods if p.issued_at < latest and (p.returned_at is None or p.returned_at > earliest)
    ]
    if not overlapping:
        return None
    period = rng.choice(overlapping)
    start = max(earliest, period.issued_at)
    stop = min(latest, period.returned_at or latest)
    return period, start + (stop - start) * rng.random()


class _Planner:
    def __init__(self, periods: list[fleet.IssuePeriod], now: datetime, rng: random.Random) -> None:
        self.personal = [p for p in periods if p.issue_kind == "personal"]
        self.pool = [p for p in periods if p.issue_kind == "pooled"]
        self.now, self.rng = now, rng
        self.planned: list[_Planned] = []

    def add(self, n: int, *, youngest: float, oldest: float, **tags: Any) -> None:
        """``n`` clips recorded ``youngest`` to ``oldest`` days ago, spread evenly over the span, each
        by a camera someone held then."""
        for k in range(n):
            stripe = (oldest - youngest) / n
            earliest = self.now - timedelta(days=youngest + stripe * (k + 1))
            latest = self.now - timedelta(days=youngest + stripe * k)
            found = None
            if self.pool and self.rng.random() < POOL_SHARE:
                # A pool camera's shifts are rare in a thin stripe: any shift in the span.
                span = (self.now - timedelta(days=oldest), self.now - timedelta(days=youngest))
                found = _when(self.pool, *span, self.rng)
            found = found or _when(self.personal, earliest, latest, self.rng)
            if found is not None:
                period, moment = found
                self._plan(period.device_serial, period.station, moment, officer_id=period.officer_id, **tags)

    def add_unknown(self, n: int, *, oldest: float) -> None:
        for _ in range(n):
            moment = self.now - timedelta(days=self.rng.uniform(0.1, oldest))
            station = self.rng.choice(sorted(CENTRES))
            self._plan(self.rng.choice(UNKNOWN_CAMERAS), station, moment, officer_id=None)

    def _plan(
        self, serial: str, station: str | None, moment: datetime, *, officer_id: int | None, **tags: Any
    ) -> None:
        self.planned.append(
            _Planned(
                number=len(self.planned),
                camera_serial=serial,
                station=station,
                officer_id=officer_id,
                recorded_at=moment.replace(microsecond=0),
                base=self.rng.randrange(BASE_CLIP_COUNT),
                **tags,
            )
        )


def _incident_number(at: datetime, rng: random.Random) -> str:
    """A control room log number of the day, as forces write them (``LOG 1234 26/11/26``)."""
    return f"LOG {rng.randint(1, 2400):04d} {at:%d/%m/%y}"


def _plan(
    periods: list[fleet.IssuePeriod],
    *,
    count: int,
    now: datetime,
    evidential: list[str],
    default: str,
    rng: random.Random,
) -> list[_Planned]:
    mix = _mix(count)
    planner = _Planner(periods, now, rng)
    planner.add_unknown(mix.held, oldest=10)
    # Untagged and non-evidential clips are deleted 31 days after recording: a quarter of them are
    # due within the week, none is past due.
    due_from = NON_EVIDENTIAL_DAYS - DUE_SOON_DAYS
    for n, category in ((mix.untagged, None), (mix.non_evidential, default)):
        soon = max(1, n // 4)
        planner.add(n - soon, youngest=0.05, oldest=due_from, category=category)
        planner.add(soon, youngest=due_from, oldest=NON_EVIDENTIAL_DAYS - 0.1, category=category)
    first_evidential = len(planner.planned)
    planner.add(mix.evidential, youngest=0.05, oldest=DEMO_DAYS - 0.05)
    kept = planner.planned[first_evidential:]
    for row in kept:
        row.category = rng.choice(evidential)
        row.incident_number = _incident_number(row.recorded_at, rng)
    rng.shuffle(kept)
    for row in kept[: mix.evidence]:
        row.evidence = True
    for row in kept[mix.evidence : mix.evidence + mix.holds]:
        row.hold = True
    for n, row in enumerate(kept[mix.evidence + mix.holds : mix.evidence + mix.holds + mix.cases]):
        row.case_reference = f"WMP-{row.recorded_at:%Y}-{4100 + n:05d}"
    for row in planner.planned[:first_evidential]:
        if row.category is not None and rng.random() < 0.5:
            row.incident_number = _incident_number(row.recorded_at, rng)
    return planner.planned


def _gps_track(
    station: str | None, seconds: float, rng: random.Random, *, start: tuple[float, float] | None = None
) -> list[list[float]] | None:
    """A short walk from ``start``, or near the station's town centre, a fix a second; now and then
    none (indoors)."""
    if rng.random() < NO_GPS_SHARE:
        return None
    if start is not None:
        lat, lon = start
    else:
        lat, lon = CENTRES.get(station or "", CENTRES["Birmingham"])
        lat += rng.uniform(-0.01, 0.01)
        lon += rng.uniform(-0.015, 0.015)
    heading = rng.uniform(0, 2 * math.pi)
    track = []
    for t in range(math.ceil(seconds) + 1):
        track.append([float(t), round(lat, 6), round(lon, 6)])
        heading += rng.uniform(-0.4, 0.4)
        lat += 0.000012 * math.cos(heading)
        lon += 0.000019 * math.sin(heading)
    return track


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _put_all(store: ObjectStore, objects: list[tuple[str, bytes]], concurrency: int = 16) -> None:
    # Each put syncs its file: several at once keep the disk busy instead of waiting on each.
    limiter = anyio.Semaphore(concurrency)

    async def put(key: str, data: bytes) -> None:
        async with limiter:
            await store.put(key, _once(data))

    async with anyio.create_task_group() as group:
        for key, data in objects:
            group.start_soon(put, key, data)


def has_demo_footage(db: Session) -> bool:
    """Whether the demo footage has been seeded."""
    found = db.scalar(select(Clip.id).where(Clip.storage_key.like(f"clips/%/{DEMO_SOURCE}")).limit(1))
    return found is not None


BATCH_SIZE = 500


def seed_demo_footage(
    db: Session,
    store: ObjectStore,
    *,
    now: datetime,
    count: int = DEMO_CLIP_COUNT,
    bases: Sequence[BaseClip] | None = None,
    seed: int = 2020,
) -> int:
    """Seed ``count`` demo clips (fewer where the issue history has no holder for a stretch) over the
    ``DEMO_DAYS`` before ``now``, unless seeded before: their objects in ``store``, their rows,
    tags and audit events in ``db``. How many clips were added."""
    if count <= 0 or has_demo_footage(db):
        return 0
    rng = random.Random(seed)
    categories = tagging.list_categories(db)
    evidential = [c.code for c in categories if c.is_active and c.retention_days is None]
    default = next(c.code for c in categories if c.is_default)
    since = now - timedelta(days=DEMO_DAYS)
    periods = fleet.list_issue_periods(db, device_kind="camera", since=since, until=now)
    planned = _plan(periods, count=count, now=now, evidential=evidential, default=default, rng=rng)
    # A few dozen for the demo; a small seeding (a test's) needs fewer.
    bases = list(bases) if bases is not None else make_base_clips(min(BASE_CLIP_COUNT, max(2, count // 20)))
    clips = _store_clips(db, store, planned, bases, now=now, source=DEMO_SOURCE, rng=rng)
    return len(clips)


@dataclass(frozen=True)
class DemoRecording:
    """A clip another domain's demo wants: who recorded it with which camera, when and where, and
    how it is tagged."""

    camera_serial: str
    officer_id: int
    recorded_at: datetime
    latitude: float
    longitude: float
    category: str | None = None
    incident_number: str | None = None


def seed_demo_recordings(
    db: Session,
    store: ObjectStore,
    recordings: Sequence[DemoRecording],
    *,
    now: datetime,
    source: str,
    numbered_from: int,
    bases: Sequence[BaseClip] | None = None,
    seed: int = 2021,
) -> list[Clip]:
    """Store a demo clip for each of ``recordings`` as ``seed_demo_footage`` stores its own (objects,
    rows, places, audit events, tags), its track starting at the recording's place. ``source`` ends
    their storage keys, so they are told apart from the demo footage; ``numbered_from`` keeps their
    bytes apart from every other demo clip's. The clips, in order."""
    rng = random.Random(seed)
    bases = list(bases) if bases is not None else make_base_clips(2)
    planned = [
        _Planned(
            number=numbered_from + n,
            camera_serial=r.camera_serial,
            station=None,
            recorded_at=r.recorded_at.replace(microsecond=0),
            base=rng.randrange(len(bases)),
            officer_id=r.officer_id,
            category=r.category,
            incident_number=r.incident_number,
            place=(r.latitude, r.longitude),
        )
        for n, r in enumerate(recordings)
    ]
    return _store_clips(db, store, planned, bases, now=now, source=source, rng=rng)


def _store_clips(
    db: Session,
    store: ObjectStore,
    planned: Sequence[_Planned],
    bases: Sequence[BaseClip],
    *,
    now: datetime,
    source: str,
    rng: random.Random,
) -> list[Clip]:
    """The planned rows' objects in ``store``, then their rows, places, audit events and tags."""
    clips: list[Clip] = []
    objects: list[tuple[str, bytes]] = []
    for row in planned:
        base = bases[row.base % len(bases)]
        data, sha256 = base.variant(row.number)
        storage_key, poster_key, thumbs_key = (
            f"{clip_key(sha256)}/{source}",
            f"posters/{sha256}.jpg",
            f"thumbs/{sha256}.jpg",
        )
        objects += [(storage_key, data), (poster_key, base.probe.poster_jpeg or b"")]
        if base.probe.thumbnails_jpeg:
            objects.append((thumbs_key, base.probe.thumbnails_jpeg))
        # The moment was chosen inside a period of the issue history, so its holder is the one
        # ``attribute`` would find; only a clip nobody held is asked why (the review reason).
        who = (
            Attribution(row.officer_id, None, None)
            if row.officer_id is not None
            else attribute(db, camera_serial=row.camera_serial, recorded_at=row.recorded_at)
        )
        # Docked and uploaded at the end of the shift, probed a minute later.
        created_at = min(now, row.recorded_at + timedelta(minutes=rng.randint(30, 600)))
        facts = base.probe
        clips.append(
            Clip(
                sha256=sha256,
                size=len(data),
                storage_key=storage_key,
                camera_serial=row.camera_serial,
                officer_id=who.officer_id,
                recorded_at=row.recorded_at,
                ingest_state="held_for_review" if who.review_reason else "ready",
                review_reason=who.review_reason,
                probed_at=min(now, created_at + timedelta(seconds=rng.randint(5, 90))),
                duration_s=facts.duration_s,
                codec=facts.codec,
                width=facts.width,
                height=facts.height,
                frame_rate=facts.frame_rate,
                started_at=row.recorded_at,
                gps_track=_gps_track(row.station, facts.duration_s or 0, rng, start=row.place),
                poster_key=poster_key,
                thumbnails_key=thumbs_key if facts.thumbnails_jpeg else None,
                created_at=created_at,
            )
        )
    # The bytes first: a row never names an object that is not stored.
    anyio.run(_put_all, store, objects)
    for start in range(0, len(clips), BATCH_SIZE):
        db.add_all(clips[start : start + BATCH_SIZE])
        db.flush()
    place.index_places(db, clips)
    for clip in clips:
        audit.record(
            db,
            actor=DEMO_ACTOR,
            action=AuditAction.FOOTAGE_CLIP_STORED,
            target=Target("clip", str(clip.id)),
            reason="demo footage",
            details={
                "sha256": clip.sha256,
                "size": clip.size,
                "camera_serial": clip.camera_serial,
                "recorded_at": clip.recorded_at.isoformat(),
                "officer_id": clip.officer_id,
                "source": source,
                "gnss_track_fixes": len(clip.gps_track or ()),
            },
        )
        if clip.review_reason:
            hold_for_review(db, clip, clip.review_reason, None)
    # Each tagging call reads its clip: without autoflush those reads do not write every change so
    # far one statement at a time; the flush at the end writes them in batches.
    with db.no_autoflush:
        _tag(db, planned, clips)
    db.flush()
    return clips


def _tag(db: Session, planned: Sequence[_Planned], clips: Sequence[Clip]) -> None:
    """Tag the clips as planned, through the tagging services (each change audited)."""
    for row, clip in zip(planned, clips, strict=True):
        if clip.review_reason:
            continue
        if row.category is not None or row.incident_number is not None:
            tagging.tag_clip(
                db, DEMO_ACTOR, clip.id, category=row.category, incident_number=row.incident_number
            )
        if row.evidence:
            tagging.set_evidence_flag(
                db, DEMO_ACTOR, clip.id, flagged=True, reason="Evidence of an offence: demo footage."
            )
        if row.hold:
            tagging.set_legal_hold(
                db, DEMO_ACTOR, clip.id, held=True, reason="Civil claim notified: demo footage."
            )
        if row.case_reference is not None:
            tagging.link_case(
                db, DEMO_ACTOR, clip.id, case_reference=row.case_reference, reason="Case file: demo footage."
            )
