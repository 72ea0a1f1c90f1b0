"""Ingest: from an upload's parts to a clip stored once by its content, attributed and probed.

The job contract (``footage.ingest``), queued by whatever received the bytes (the upload server;
later the camera system's fetcher)::

    {"source": "tus", "upload_id": "…", "parts": ["uploads/…/000000000000", …], "size": 123,
     "sha256_received": "<hex of the bytes as they streamed in>", "device_serial": "…",
     "metadata": {"filename": "…", "camera_serial": "…", "recorded_at": "<ISO 8601>",
                  "sha256": "<hex the device computed>"}}

An Axis recording's clips add to ``metadata``: ``officer_user_id`` (who the camera system says
recorded: noted where it is not the issue history's holder, never used to attribute),
``gnss_track_key`` (the recording's GNSS track object, read for the clip's own stretch of it:
``footage.gnss``) and ``stopped_at``.

A job runs at least once, so every step is safe to repeat; the ``clip_source`` row of the upload is
its progress. Steps:

1. Record the source (outcome ``received``) with its payload, so the start-up sweep can queue it again.
2. The device's hash differs from the received one: the parts are joined into one object under
   ``quarantine/<source>/<id>``, the source is ``quarantined``, an alert is raised and the parts go.
3. A clip with this hash exists: the source points at it (``duplicate``), the parts go.
4. Else the parts are moved, in order, under ``clips/<sha256>/<source>.parts/`` and composed into
   ``clips/<sha256>/<source>`` (:meth:`ObjectStore.compose`): their bytes are neither read nor
   written again. They were hashed as they streamed in and each chunk was sealed with an
   authentication tag, so bytes that differ from those hashed cannot be read back unnoticed; the
   storage check reads them all again. Then the clip row is written (the unique hash decides a race
   of two identical uploads: the loser points at the winner's clip and deletes its own composed
   object), attributed to the officer who held the camera at ``recorded_at``, and its probe is
   queued. A GNSS track named in the payload is read before that, and becomes the clip's track; one
   that cannot be read is noted on the source and the clip goes on without it.
5. Whatever the outcome, once it has committed: the parts left under the source's keys go, and so
   does the source's composed object unless the clip row names it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.db import reading, transaction, violated_unique
from openbwv.errors import InvalidInput
from openbwv.footage import gnss
from openbwv.footage import probe as probing
from openbwv.footage.models import UNFINISHED_CLIP_STATES, Clip, ClipSource
from openbwv.footage.place import index_place
from openbwv.footage.review import hold_for_review, record_dispute
from openbwv.footage.service import (
    attribute,
    checked_sha256,
    get_clip_by_sha256,
    note_claim,
    raise_alert,
)
from openbwv.jobs import enqueue
from openbwv.policy import SYSTEM
from openbwv.storage import ObjectStore

log = logging.getLogger(__name__)

INGEST_TASK = "footage.ingest"
PROBE_TASK = "footage.probe"
StoreOpener = Callable[[], ObjectStore]


def clip_key(sha256: str) -> str:
    return f"clips/{sha256}"


class InvalidPayload(ValueError):
    """An ingest job's payload breaks the contract: a bug in whoever queued it, kept in the job log."""


@dataclass(frozen=True)
class IngestRequest:
    """An ingest job's payload, checked."""

    source: str
    source_id: str
    parts: tuple[str, ...]
    size: int
    sha256_received: str
    declared_sha256: str
    device_serial: str | None
    camera_serial: str
    recorded_at: datetime
    filename: str | None
    payload: dict[str, Any]
    claimed_user_id: str | None = None
    gnss_track_key: str | None = None
    stopped_at: datetime | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> IngestRequest:
        try:
            metadata = payload.get("metadata") or {}
            source = str(payload["source"])
            source_id = str(payload.get("upload_id") or payload["source_id"])
            parts = tuple(str(p) for p in payload["parts"])
            size = int(payload["size"])
            received = checked_sha256(str(payload["sha256_received"]))
            recorded_at = _aware(str(metadata["recorded_at"]))
            stopped_at = _aware(str(metadata["stopped_at"])) if metadata.get("stopped_at") else None
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            raise InvalidPayload(f"not an ingest payload: {exc}") from exc
        declared = str(metadata.get("sha256") or "").strip().lower()
        camera = str(metadata.get("camera_serial") or payload.get("device_serial") or "").strip().upper()
        device = payload.get("device_serial")
        return cls(
            source=source,
            source_id=source_id,
            parts=parts,
            size=size,
            sha256_received=received,
            declared_sha256=declared,
            device_serial=str(device).strip().upper() if device else None,
            camera_serial=camera,
            recorded_at=recorded_at,
            filename=str(metadata["filename"])[:255] if metadata.get("filename") else None,
            payload=payload,
            claimed_user_id=str(metadata["officer_user_id"]) if metadata.get("officer_user_id") else None,
            gnss_track_key=str(metadata["gnss_track_key"]) if metadata.get("gnss_track_key") else None,
            stopped_at=stopped_at,
        )

    @property
    def quarantine_key(self) -> str:
        return f"quarantine/{self.source}/{self.source_id}"

    @property
    def matches_device(self) -> bool:
        return self.declared_sha256 == self.sha256_received


def _aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PartsDoNotMatch(Exception):
    """The stored parts do not add up to the upload's recorded size."""


async def _joined(store: ObjectStore, parts: Sequence[str]) -> AsyncIterator[bytes]:
    """The parts' bytes in order: memory stays one chunk."""
    for part in parts:
        async for chunk in store.read(part):
            yield chunk


def composed_key(request: IngestRequest) -> str:
    """Where this source's bytes are composed into a clip: under the clip's hash, one name per
    source, so two deliveries of the same bytes never write the same key."""
    tag = hashlib.sha256(f"{request.source}:{request.source_id}".encode()).hexdigest()[:16]
    return f"{clip_key(request.sha256_received)}/{request.source}-{tag}"


def _placed_part(key: str, index: int) -> str:
    return f"{key}.parts/{index:06d}"


async def _compose(store: ObjectStore, request: IngestRequest, key: str) -> None:
    """Move the source's parts under ``key`` and compose ``key`` of them; safe to repeat after a
    crash at any point (a part already moved is found where it went)."""
    placed = []
    for index, part in enumerate(request.parts):
        target = _placed_part(key, index)
        if not await store.move(part, target) and await store.size(target) is None:
            raise FileNotFoundError(f"part {part} of {request.source}:{request.source_id} is not stored")
        placed.append(target)
    composed = await store.compose(key, placed)
    if composed.size != request.size:
        raise PartsDoNotMatch(f"the stored parts hold {composed.size} bytes, not {request.size}")


async def _discard_composed(store: ObjectStore, key: str) -> None:
    """Delete the composed object ``key`` and any part moved under it."""
    await store.delete(key)
    async for part in store.keys(f"{key}.parts/"):
        await store.delete(part)


async def _delete(store: ObjectStore, keys: Sequence[str]) -> None:
    for key in keys:
        await store.delete(key)


def _source_target(request: IngestRequest) -> Target:
    return Target("clip_source", f"{request.source}:{request.source_id}")


def _locked_source(db: Session, request: IngestRequest) -> ClipSource | None:
    return db.scalar(
        select(ClipSource)
        .where(ClipSource.source_kind == request.source, ClipSource.source_id == request.source_id)
        .with_for_update()
    )


def _record_source(factory: sessionmaker[Session], request: IngestRequest) -> str:
    """The source's row, written as ``received`` on the first run; its outcome so far."""
    with transaction(factory) as db:
        source = _locked_source(db, request)
        if source is not None:
            return source.outcome
        try:
            with db.begin_nested():
                db.add(
                    ClipSource(
                        source_kind=request.source,
                        source_id=request.source_id,
                        device_serial=request.device_serial,
                        declared_sha256=request.declared_sha256[:64],
                        received_sha256=request.sha256_received,
                        size=request.size,
                        filename=request.filename,
                        outcome="received",
                        payload=request.payload,
                    )
                )
        except IntegrityError as exc:
            if violated_unique(exc) != "uq_clip_source_source_kind":
                raise
            source = _locked_source(db, request)
            assert source is not None
            return source.outcome
        return "received"


def _quarantine(
    factory: sessionmaker[Session],
    store: ObjectStore,
    request: IngestRequest,
    why: str,
    parts: Sequence[str] | None = None,
) -> None:
    """Keep the bytes (``parts``, by default the source's) under the quarantine key, and say so."""
    joined = parts if parts is not None else request.parts
    anyio.run(lambda: store.put(request.quarantine_key, _joined(store, joined)))
    with transaction(factory) as db:
        source = _locked_source(db, request)
        if source is None or source.outcome != "received":
            return
        source.outcome = "quarantined"
        source.quarantine_key = request.quarantine_key
        source.ingested_at = clock.now()
        event = audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.FOOTAGE_SOURCE_QUARANTINED,
            target=_source_target(request),
            reason=why,
            details={
                "declared_sha256": request.declared_sha256,
                "received_sha256": request.sha256_received,
                "size": request.size,
                "device_serial": request.device_serial,
                "camera_serial": request.camera_serial,
                "filename": request.filename,
                "quarantine_key": request.quarantine_key,
            },
        )
        raise_alert(
            db,
            rule="footage_quarantined",
            target=_source_target(request),
            summary=(
                f"An upload from camera {request.camera_serial or '?'} recorded "
                f"{request.recorded_at:%Y-%m-%d %H:%M} UTC was quarantined: {why}"
            ),
            event=event,
        )


def _point_at(db: Session, source: ClipSource, clip: Clip, request: IngestRequest) -> None:
    source.outcome = "duplicate"
    source.clip_id = clip.id
    source.ingested_at = clock.now()
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.FOOTAGE_SOURCE_DEDUPLICATED,
        target=Target("clip", str(clip.id)),
        details={"sha256": clip.sha256, "source": f"{request.source}:{request.source_id}"},
    )


def _delivered_track(store: ObjectStore, request: IngestRequest) -> gnss.DeliveredTrack | None:
    if request.gnss_track_key is None:
        return None
    return gnss.read_clip_track(
        store, request.gnss_track_key, start=request.recorded_at, stop=request.stopped_at
    )


def _notes(
    attribution: dict[str, Any] | None, track: gnss.DeliveredTrack | None, key: str | None
) -> dict[str, Any]:
    notes: dict[str, Any] = {}
    if attribution is not None:
        notes["attribution"] = attribution
    if track is not None and track.error is not None:
        notes["gnss_track"] = {"key": key, "error": track.error[:500]}
    return notes


def _record_clip(
    factory: sessionmaker[Session], request: IngestRequest, track: gnss.DeliveredTrack | None, key: str
) -> None:
    with transaction(factory) as db:
        source = _locked_source(db, request)
        if source is None or source.outcome != "received":
            return
        existing = get_clip_by_sha256(db, request.sha256_received)
        if existing is not None:
            _point_at(db, source, existing, request)
            return
        who = attribute(db, camera_serial=request.camera_serial, recorded_at=request.recorded_at)
        claim = note_claim(db, who, request.claimed_user_id)
        clip = Clip(
            sha256=request.sha256_received,
            size=request.size,
            storage_key=key,
            camera_serial=request.camera_serial[:60],
            officer_id=who.officer_id,
            recorded_at=request.recorded_at,
            ingest_state="held_for_review" if who.review_reason else "stored",
            review_reason=who.review_reason,
            gps_track=track.gps_track if track is not None else None,
        )
        try:
            with db.begin_nested():
                db.add(clip)
                db.flush()
        except IntegrityError as exc:
            # Another upload of the same bytes stored its clip first: point at it.
            if violated_unique(exc) != "uq_clip_sha256":
                raise
            winner = get_clip_by_sha256(db, request.sha256_received)
            assert winner is not None
            _point_at(db, source, winner, request)
            return
        index_place(db, clip)
        source.outcome = "stored"
        source.clip_id = clip.id
        source.ingested_at = clock.now()
        source.notes = _notes(claim, track, request.gnss_track_key) or None
        audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.FOOTAGE_CLIP_STORED,
            target=Target("clip", str(clip.id)),
            details={
                "sha256": clip.sha256,
                "size": clip.size,
                "camera_serial": clip.camera_serial,
                "recorded_at": clip.recorded_at.isoformat(),
                "officer_id": clip.officer_id,
                "collar_number": who.collar_number,
                "source": f"{request.source}:{request.source_id}",
                "gnss_track_fixes": len(clip.gps_track or ()) if track is not None else None,
                "gnss_track_error": track.error if track is not None else None,
            },
        )
        if claim is not None and claim["finding"] == "disputed":
            record_dispute(db, clip, claim, source=f"{request.source}:{request.source_id}")
        if who.review_reason:
            hold_for_review(db, clip, who.review_reason, claim)
        enqueue(db, PROBE_TASK, {"clip_id": clip.id}, dedupe_key=f"{PROBE_TASK}:{clip.id}")


def ingest(factory: sessionmaker[Session], open_store: StoreOpener, payload: dict[str, Any]) -> None:
    """Run the ``footage.ingest`` job for ``payload`` (idempotent: see the module's steps)."""
    request = IngestRequest.from_payload(payload)
    store = open_store()
    if _record_source(factory, request) == "received":
        if not request.matches_device:
            _quarantine(factory, store, request, "the device's SHA-256 differs from the bytes received")
        else:
            _store(factory, store, request)
    # Whatever the outcome, it has committed: what this source left that no clip names can go.
    key = composed_key(request)
    with reading(factory) as db:
        kept = db.scalar(select(Clip.id).where(Clip.storage_key == key)) is not None
    anyio.run(_delete, store, request.parts)
    if not kept:
        anyio.run(_discard_composed, store, key)


def _store(factory: sessionmaker[Session], store: ObjectStore, request: IngestRequest) -> None:
    key = composed_key(request)
    with reading(factory) as db:
        stored_before = get_clip_by_sha256(db, request.sha256_received) is not None
    if not stored_before:
        try:
            anyio.run(_compose, store, request, key)
        except PartsDoNotMatch as exc:
            parts = [_placed_part(key, index) for index in range(len(request.parts))]
            _quarantine(factory, store, request, str(exc), parts)
            return
    _record_clip(factory, request, _delivered_track(store, request), key)


def probe_clip(
    factory: sessionmaker[Session],
    open_store: StoreOpener,
    payload: dict[str, Any],
    *,
    run_probe: Callable[[str], probing.ProbeResult],
) -> None:
    """Run the ``footage.probe`` job: read the clip's facts, poster and thumbnails (``run_probe``
    reads the object it is given by ranges, in the probe pool)."""
    clip_id = int(payload["clip_id"])
    with reading(factory) as db:
        clip = db.get(Clip, clip_id)
        if clip is None or clip.probed_at is not None or clip.ingest_state not in UNFINISHED_CLIP_STATES:
            return
        key, sha256 = clip.storage_key, clip.sha256
    store = open_store()
    result = run_probe(key)
    if result.error is not None:
        _fail(factory, clip_id, result.error)
        return
    poster_key, thumbs_key = f"posters/{sha256}.jpg", f"thumbs/{sha256}.jpg"

    async def put_pictures() -> None:
        await store.put(poster_key, _once(result.poster_jpeg or b""))
        if result.thumbnails_jpeg:
            await store.put(thumbs_key, _once(result.thumbnails_jpeg))

    anyio.run(put_pictures)
    with transaction(factory) as db:
        clip = db.scalar(select(Clip).where(Clip.id == clip_id).with_for_update())
        if clip is None or clip.probed_at is not None:
            return
        clip.duration_s = result.duration_s
        clip.codec = result.codec
        clip.width = result.width
        clip.height = result.height
        clip.frame_rate = result.frame_rate
        clip.started_at = result.created_at or clip.recorded_at
        # A track the camera system delivered beside the file is its record of where it was; the
        # file's own is the fallback.
        clip.gps_track = clip.gps_track or result.gps_track
        index_place(db, clip)
        clip.poster_key = poster_key
        clip.thumbnails_key = thumbs_key if result.thumbnails_jpeg else None
        clip.probed_at = clock.now()
        if clip.ingest_state == "stored":
            clip.ingest_state = "ready"
        audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.FOOTAGE_CLIP_PROBED,
            target=Target("clip", str(clip.id)),
            details={
                "duration_s": clip.duration_s,
                "codec": clip.codec,
                "width": clip.width,
                "height": clip.height,
                "ingest_state": clip.ingest_state,
            },
        )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _fail(factory: sessionmaker[Session], clip_id: int, error: str) -> None:
    with transaction(factory) as db:
        clip = db.scalar(select(Clip).where(Clip.id == clip_id).with_for_update())
        if clip is None or clip.ingest_state == "failed":
            return
        clip.ingest_state = "failed"
        clip.failure = error
        event = audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.FOOTAGE_CLIP_FAILED,
            target=Target("clip", str(clip.id)),
            reason=error[:500],
            details={"sha256": clip.sha256, "storage_key": clip.storage_key},
        )
        raise_alert(
            db,
            rule="footage_unreadable",
            target=Target("clip", str(clip.id)),
            summary=f"Clip {clip.sha256[:12]} from camera {clip.camera_serial} cannot be read as video "
            f"(its bytes are kept): {error}",
            event=event,
        )


def sweep(factory: sessionmaker[Session]) -> int:
    """Queue again the work rows show unfinished: sources received but not ingested, and clips not
    yet probed. The number of jobs queued."""
    queued = 0
    with transaction(factory) as db:
        for source_kind, source_id, payload in db.execute(
            select(ClipSource.source_kind, ClipSource.source_id, ClipSource.payload).where(
                ClipSource.outcome == "received"
            )
        ):
            enqueue(db, INGEST_TASK, payload, dedupe_key=f"{INGEST_TASK}:{source_kind}:{source_id}")
            queued += 1
        for clip_id in db.scalars(
            select(Clip.id).where(Clip.ingest_state.in_(UNFINISHED_CLIP_STATES), Clip.probed_at.is_(None))
        ):
            enqueue(db, PROBE_TASK, {"clip_id": clip_id}, dedupe_key=f"{PROBE_TASK}:{clip_id}")
            queued += 1
    return queued
