"""Uploads: created by a dock, advanced part by part, completed (and handed to footage ingest),
terminated or expired. Short transactions only: the bytes themselves flow outside them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from openbwv import fleet
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict, NotFound, TooLarge
from openbwv.jobs import enqueue
from openbwv.policy import Actor
from openbwv.uploads.metadata import describe_file
from openbwv.uploads.models import Upload, UploadPart, UploadState
from openbwv.uploads.protocol import BadRequest, Gone

INGEST_TASK = "footage.ingest"
"""The task footage ingest declares; it owns an upload's parts once queued."""


@dataclass(frozen=True)
class PatchTicket:
    """What a PATCH may append to, read before its bytes flow: the upload as it stood, and its parts'
    keys in order when the caller must read them back to resume the running hash."""

    upload_id: str
    offset: int
    length: int
    parts: tuple[str, ...] = ()


def new_part_key(upload_id: str, offset: int) -> str:
    """A fresh object key for bytes from ``offset``: racing requests never share one."""
    return f"uploads/{upload_id}/{offset:016d}-{secrets.token_hex(8)}"


def upload_prefix(upload_id: str) -> str:
    return f"uploads/{upload_id}/"


def _query(actor: Actor, upload_id: str, *, lock: bool = False) -> Select[Upload]:
    # Another device's upload is as good as missing: 404, never 403, so ids reveal nothing.
    query = select(Upload).where(Upload.id == upload_id, Upload.device_serial == (actor.device_serial or ""))
    return query.with_for_update() if lock else query


def get_upload(db: Session, actor: Actor, upload_id: str, *, lock: bool = False) -> Upload | None:
    """The upload with ``upload_id`` if ``actor`` (the device) created it; with ``lock`` its row stays
    locked until the transaction ends (PostgreSQL; SQLite's writers are one at a time already)."""
    return db.scalar(_query(actor, upload_id, lock=lock))


def is_gone(upload: Upload, now: datetime) -> bool:
    """Terminated, expired, or past its expiry and not yet swept."""
    if upload.state in (UploadState.TERMINATED, UploadState.EXPIRED):
        return True
    return upload.state == UploadState.RECEIVING and upload.expires_at <= now


def _present(db: Session, actor: Actor, upload_id: str, now: datetime, *, lock: bool = False) -> Upload:
    upload = get_upload(db, actor, upload_id, lock=lock)
    if upload is None:
        raise NotFound("upload")
    if is_gone(upload, now):
        raise Gone()
    return upload


def status_of(db: Session, actor: Actor, upload_id: str, *, now: datetime) -> Upload:
    """The upload as HEAD reports it: 404 for none (or another device's), 410 once gone."""
    return _present(db, actor, upload_id, now)


def create_upload(
    db: Session, actor: Actor, *, length: int, metadata: dict[str, str], now: datetime, expiry: timedelta
) -> Upload:
    """Start an upload of ``length`` bytes for the calling device; ``metadata`` must describe the file."""
    if actor.device_serial is None:
        raise BadRequest("Only a device uploads footage.")
    if length <= 0:
        raise BadRequest("Upload-Length must be at least 1: an empty file holds no footage.")
    described = describe_file(metadata)
    upload = Upload(
        id=secrets.token_urlsafe(18),
        device_serial=actor.device_serial,
        length=length,
        offset=0,
        metadata_=metadata,
        state=UploadState.RECEIVING,
        created_at=now,
        expires_at=now + expiry,
    )
    db.add(upload)
    db.flush()
    fleet.record_docking(db, dock_serial=actor.device_serial, camera_serial=described.camera_serial, at=now)
    return upload


def _offset_conflict(upload: Upload, offset: int) -> Conflict:
    return Conflict(
        f"The upload holds {upload.offset} bytes, not {offset}; ask HEAD for Upload-Offset and resume there.",
        rule="upload_offset",
    )


def part_keys(db: Session, upload_id: str) -> list[str]:
    """The storage keys of an upload's parts, in the order of their bytes."""
    return list(
        db.scalars(
            select(UploadPart.key).where(UploadPart.upload_id == upload_id).order_by(UploadPart.offset)
        )
    )


def check_patch(
    db: Session, actor: Actor, upload_id: str, *, offset: int, now: datetime, with_parts: bool
) -> PatchTicket:
    """Whether bytes may be appended at ``offset`` now; the parts' keys too when ``with_parts``."""
    upload = _present(db, actor, upload_id, now)
    if upload.offset != offset:
        raise _offset_conflict(upload, offset)
    parts = tuple(part_keys(db, upload_id)) if with_parts and offset > 0 else ()
    return PatchTicket(upload_id=upload.id, offset=upload.offset, length=upload.length, parts=parts)


def record_part(
    db: Session,
    actor: Actor,
    upload_id: str,
    *,
    offset: int,
    length: int,
    key: str,
    sha256: str,
    received_sha256: str,
    now: datetime,
    expiry: timedelta,
) -> Upload:
    """Record a stored part and move the upload's offset past it; when it was the last, complete the
    upload and queue footage ingest in the same transaction.

    ``received_sha256`` is the running SHA-256 of every byte up to the part's end. The row is locked
    and the offset checked again: of two requests that streamed to one offset, one records its part
    and the other is refused with 409 (and must delete its object).
    """
    upload = _present(db, actor, upload_id, now, lock=True)
    if upload.offset != offset:
        raise _offset_conflict(upload, offset)
    if offset + length > upload.length:
        raise TooLarge(f"The upload is {upload.length} bytes long; these bytes would pass its end.")
    with refusing_duplicates(db, {"pk_upload_part": _offset_conflict(upload, offset)}):
        db.add(UploadPart(upload_id=upload.id, offset=offset, length=length, key=key, sha256=sha256))
    upload.offset = offset + length
    upload.expires_at = now + expiry
    if upload.offset == upload.length:
        _complete(db, upload, received_sha256=received_sha256, now=now)
    return upload


def _complete(db: Session, upload: Upload, *, received_sha256: str, now: datetime) -> None:
    upload.state = UploadState.COMPLETE
    upload.completed_at = now
    upload.received_sha256 = received_sha256
    metadata = describe_file(upload.metadata_).as_dict()
    payload = {
        "source": "tus",
        "upload_id": upload.id,
        "parts": part_keys(db, upload.id),
        "size": upload.length,
        "sha256_received": received_sha256,
        "device_serial": upload.device_serial,
        "metadata": metadata,
    }
    enqueue(db, INGEST_TASK, payload, dedupe_key=f"upload:{upload.id}")


def _drop_parts(db: Session, upload: Upload) -> list[str]:
    keys = part_keys(db, upload.id)
    db.execute(delete(UploadPart).where(UploadPart.upload_id == upload.id))
    return keys


def terminate_upload(db: Session, actor: Actor, upload_id: str, *, now: datetime) -> list[str]:
    """End an unfinished upload at the device's request; returns the part keys to delete once committed."""
    upload = _present(db, actor, upload_id, now, lock=True)
    if upload.state == UploadState.COMPLETE:
        raise Conflict(
            "The upload is complete and handed to footage ingest; it cannot be terminated.",
            rule="upload_complete",
        )
    upload.state = UploadState.TERMINATED
    upload.terminated_at = now
    return _drop_parts(db, upload)


def unrecorded_objects(db: Session, keys: list[str], *, upload_id: str | None = None) -> list[str]:
    """Of ``keys`` (objects under ``uploads/``), those no part row names and no upload will record:
    bytes stored by a request that died, or was refused, before it recorded them.

    An object of an upload still receiving may be one a request is streaming now: it is left to
    that request, or to the upload's end (completion, termination or expiry sweep its prefix); one
    under an id no upload row has is left alone. With ``upload_id``, only that upload's objects are
    considered, whatever its state (its caller has just completed it)."""
    by_upload: dict[str, list[str]] = {}
    for key in keys:
        owner = key.split("/")[1] if key.count("/") >= 2 else ""
        if upload_id is None or owner == upload_id:
            by_upload.setdefault(owner, []).append(key)
    if not by_upload:
        return []
    ids = list(by_upload)
    # Only uploads this domain has a row for: an object under an id it never created is not its own.
    ended = set(
        db.scalars(
            select(Upload.id).where(
                Upload.id.in_(ids),
                (Upload.state != UploadState.RECEIVING) | (Upload.id == (upload_id or "")),
            )
        )
    )
    named = set(db.scalars(select(UploadPart.key).where(UploadPart.upload_id.in_(ids))))
    return sorted(key for owner in ended for key in by_upload[owner] if key not in named)


def expire_uploads(db: Session, *, now: datetime) -> dict[str, list[str]]:
    """Mark every unfinished upload past its expiry expired; returns each one's part keys to delete."""
    expired = db.scalars(
        select(Upload)
        .where(Upload.state == UploadState.RECEIVING, Upload.expires_at <= now)
        .order_by(Upload.id)
        .with_for_update()
    ).all()
    keys: dict[str, list[str]] = {}
    for upload in expired:
        upload.state = UploadState.EXPIRED
        keys[upload.id] = _drop_parts(db, upload)
    return keys
