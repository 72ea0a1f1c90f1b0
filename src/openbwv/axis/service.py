"""The Axis system's Swift account: signing in, containers, objects, and handing finished recordings
to footage ingest.

An Axis body worn system signs in as a fleet device: ``X-Auth-User`` is its serial, ``X-Auth-Key``
its device credential, and it gets a short-lived token. Its account is its serial; another device's
account is hidden from it (404). When a recording container is marked ``Status: Complete`` each of
its clips is queued as a ``footage.ingest`` job in the same transaction, once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, auth, clock, fleet
from openbwv.audit import AuditAction, Target
from openbwv.axis import names
from openbwv.axis.models import AxisContainer, AxisObject, AxisToken
from openbwv.axis.names import Unstorable, meta_time, meta_value
from openbwv.db import refusing_duplicates, transaction
from openbwv.errors import Conflict, Forbidden, NotFound, OpenbwvError, Unauthenticated
from openbwv.jobs import enqueue
from openbwv.policy import Actor, DeviceScope, device_actor

TOKEN_PREFIX = "obwvx_"
INGEST_TASK = "footage.ingest"
# Tokens this long past their expiry are deleted when the system next signs in.
EXPIRED_TOKENS_KEPT = timedelta(days=1)
# Clips dated before this, or more than a day ahead of the clock, cannot be real.
EARLIEST_CLIP = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
FUTURE_SLACK = timedelta(days=1)


class InsufficientStorage(OpenbwvError):
    """507: out of disk space or over the Axis quota; the system keeps the recording and retries."""

    status_code = 507


class Busy(OpenbwvError):
    """503: too many uploads at once; the system retries soon."""

    status_code = 503


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def storage_key(account: str, container: str, name: str) -> str:
    """Where an object's bytes live in the object store."""
    return f"axis/{account}/{container}/{name}"


# Signing in


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    account: str
    expires_at: datetime


def sign_in(factory: sessionmaker[Session], *, user: str, key: str, ttl: timedelta) -> IssuedToken:
    """Exchange an Axis system's serial and device credential for a token; a failure is audited and
    answered 401 alike whether the serial, the credential or its scope is wrong."""
    serial = user.strip().upper()[:60]
    with transaction(factory) as db:
        actor = auth.resolve_device_credential(db, key) if key and auth.is_device_credential(key) else None
        device = fleet.get_device(db, serial) if actor is not None else None
        credential = auth.live_device_credential(db, device.id) if device is not None else None
        if (
            actor is not None
            and device is not None
            and credential is not None
            and actor.device_serial == serial
            and DeviceScope.UPLOAD in actor.scopes
        ):
            now = clock.now()
            db.execute(delete(AxisToken).where(AxisToken.expires_at < now - EXPIRED_TOKENS_KEPT))
            raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
            token = AxisToken(
                token_hash=_digest(raw),
                device_id=device.id,
                device_serial=serial,
                credential_id=credential.id,
                issued_at=now,
                expires_at=now + ttl,
            )
            db.add(token)
            auth.note_device_credential_used(db, actor)
            audit.record(
                db, actor=actor, action=AuditAction.AXIS_TOKEN_ISSUED, target=Target("device", serial)
            )
            return IssuedToken(raw=raw, account=serial, expires_at=token.expires_at)
    audit.record_now(
        factory,
        actor=Actor(username=f"axis:{serial}"),
        action=AuditAction.AXIS_SIGN_IN_FAILED,
        target=Target("device", serial),
    )
    raise Unauthenticated("X-Auth-User and X-Auth-Key do not sign in an Axis system.")


def resolve_token(db: Session, raw: str) -> Actor | None:
    """The device an unexpired token was issued to, while the credential it came from is still live."""
    token = db.scalar(
        select(AxisToken).where(AxisToken.token_hash == _digest(raw), AxisToken.expires_at > clock.now())
    )
    if token is None:
        return None
    credential = auth.live_device_credential(db, token.device_id)
    if credential is None or credential.id != token.credential_id:
        return None
    return device_actor(token.device_serial, frozenset(DeviceScope(s) for s in credential.scopes.split()))


def check_account(actor: Actor, account: str) -> None:
    """Refuse an account not the caller's: another system's account is hidden, so it answers 404."""
    if actor.device_serial != account:
        raise NotFound("account")


# The account


@dataclass(frozen=True)
class ContainerStat:
    name: str
    count: int
    bytes: int


def list_containers(db: Session, actor: Actor, *, account: str) -> list[ContainerStat]:
    """The account's containers with how many objects and bytes each holds, by name."""
    check_account(actor, account)
    rows = db.execute(
        select(AxisContainer.name, func.count(AxisObject.id), func.coalesce(func.sum(AxisObject.size), 0))
        .outerjoin(AxisObject, AxisObject.container_id == AxisContainer.id)
        .where(AxisContainer.account == account)
        .group_by(AxisContainer.id, AxisContainer.name)
    ).all()
    # In byte order, as Swift lists, whatever the database's collation.
    return sorted((ContainerStat(name, count, int(size)) for name, count, size in rows), key=_byte_order)


# Containers


def get_container(db: Session, actor: Actor, *, account: str, name: str) -> AxisContainer | None:
    """The account's container ``name``, or None."""
    check_account(actor, account)
    return _container(db, account, name)


def _container(db: Session, account: str, name: str, *, lock: bool = False) -> AxisContainer | None:
    query = select(AxisContainer).where(AxisContainer.account == account, AxisContainer.name == name)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.scalar(query)


def put_container(
    db: Session, actor: Actor, *, account: str, name: str, meta: Mapping[str, str]
) -> tuple[AxisContainer, bool]:
    """Create a container, or update the metadata of the one there; True when it was created."""
    check_account(actor, account)
    kind = names.container_kind(name)
    container = _container(db, account, name, lock=True)
    if container is not None:
        _update_meta(db, actor, container, meta)
        return container, False
    recording = names.recording_name(name) if kind == "recording" else None
    container = AxisContainer(
        account=account,
        name=name,
        kind=kind,
        meta={key: value for key, value in meta.items() if value},
        user_id=recording.user_id if recording else None,
        camera_serial=recording.camera_serial if recording else None,
        triggered_at=recording.triggered_at if recording else None,
    )
    raced = Conflict(f"Container {name} was created at the same moment; try again.", rule="duplicate")
    with refusing_duplicates(db, {"uq_axis_container_account": raced}):
        db.add(container)
    _complete_if_marked(db, actor, container)
    return container, True


def update_container(
    db: Session, actor: Actor, *, account: str, name: str, meta: Mapping[str, str]
) -> AxisContainer:
    """Merge ``meta`` into a container's metadata (an empty value removes a key); ``Status:
    Complete`` on a recording hands its clips to footage ingest."""
    check_account(actor, account)
    names.container_kind(name)
    container = _container(db, account, name, lock=True)
    if container is None:
        raise NotFound("container")
    _update_meta(db, actor, container, meta)
    return container


def _update_meta(db: Session, actor: Actor, container: AxisContainer, meta: Mapping[str, str]) -> None:
    merged = dict(container.meta)
    for key, value in meta.items():
        for existing in [k for k in merged if k.lower() == key.lower()]:
            del merged[existing]
        if value:
            merged[key] = value
    container.meta = merged
    container.updated_at = clock.now()
    db.flush()
    _complete_if_marked(db, actor, container)


# Objects


@dataclass(frozen=True)
class PlannedPut:
    """Where an object's bytes go and what it is, decided before a byte is read."""

    key: str
    kind: str
    room: int | None


def plan_object_put(
    db: Session,
    actor: Actor,
    *,
    account: str,
    container: str,
    name: str,
    meta: Mapping[str, str],
    declared_length: int | None,
    quota_bytes: int,
) -> PlannedPut:
    """Check an object may be stored before its bytes flow; ``room`` is what the quota leaves."""
    check_account(actor, account)
    found = _container(db, account, container)
    if found is None:
        raise NotFound("container")
    if found.kind == "system" and name in names.CAPABILITY_NAMES:
        raise Forbidden("The capability file is this content destination's to publish.")
    kind = names.object_kind(found.kind, name, meta)
    if found.completed_at is not None:
        raise Unstorable(f"Recording {container} is complete; it takes no more objects.")
    if kind == "clip":
        _check_clip_times(meta)
    room = None
    if quota_bytes:
        used = db.scalar(select(func.coalesce(func.sum(AxisObject.size), 0))) or 0
        room = max(0, quota_bytes - int(used))
        if (declared_length or 0) > room:
            raise InsufficientStorage("The Axis storage quota is full.")
    return PlannedPut(key=storage_key(account, container, name), kind=kind, room=room)


def _check_clip_times(meta: Mapping[str, str]) -> None:
    started, stopped = meta_time(meta, "StartTime"), meta_time(meta, "StopTime")
    latest = clock.now() + FUTURE_SLACK
    for moment in (started, stopped):
        if moment is not None and not EARLIEST_CLIP <= moment <= latest:
            raise Unstorable(f"The clip's time {moment.isoformat()} is out of bounds.")
    if started is not None and stopped is not None and stopped <= started:
        raise Unstorable("The clip has no duration: it stops when or before it starts.")


def record_object(
    db: Session,
    actor: Actor,
    *,
    account: str,
    container: str,
    name: str,
    planned: PlannedPut,
    size: int,
    md5: str,
    sha256: str,
    content_type: str,
    meta: Mapping[str, str],
) -> AxisObject:
    """Record an object whose bytes are stored, replacing the row of one stored under its name."""
    check_account(actor, account)
    found = _container(db, account, container, lock=True)
    if found is None:
        raise NotFound("container")
    if found.completed_at is not None:
        raise Unstorable(f"Recording {container} is complete; it takes no more objects.")
    stored = _object(db, found, name)
    if stored is None:
        stored = AxisObject(container_id=found.id, name=name)
        db.add(stored)
    stored.kind = planned.kind
    stored.storage_key = planned.key
    stored.size = size
    stored.md5 = md5
    stored.sha256 = sha256
    stored.content_type = content_type[:200]
    stored.meta = {key: value for key, value in meta.items() if value}
    stored.stored_at = clock.now()
    found.updated_at = clock.now()
    db.flush()
    return stored


def get_object(db: Session, actor: Actor, *, account: str, container: str, name: str) -> AxisObject | None:
    """The object ``name`` in the account's ``container``, or None."""
    check_account(actor, account)
    found = _container(db, account, container)
    return None if found is None else _object(db, found, name)


def _object(db: Session, container: AxisContainer, name: str) -> AxisObject | None:
    return db.scalar(
        select(AxisObject).where(AxisObject.container_id == container.id, AxisObject.name == name)
    )


def update_object_meta(
    db: Session, actor: Actor, *, account: str, container: str, name: str, meta: Mapping[str, str]
) -> AxisObject:
    """Replace an object's metadata, as a Swift object POST does."""
    stored = get_object(db, actor, account=account, container=container, name=name)
    if stored is None:
        raise NotFound("object")
    owner = _container(db, account, container)
    if owner is not None and owner.completed_at is not None:
        raise Unstorable(f"Recording {container} is complete; its objects do not change.")
    if stored.kind == "clip":
        _check_clip_times(meta)
    stored.meta = {key: value for key, value in meta.items() if value}
    return stored


def list_objects(
    db: Session, actor: Actor, *, account: str, container: str, prefix: str = "", limit: int = 10_000
) -> list[AxisObject]:
    """The container's objects by name, those starting with ``prefix``."""
    found = get_container(db, actor, account=account, name=container)
    if found is None:
        raise NotFound("container")
    query = select(AxisObject).where(AxisObject.container_id == found.id)
    if prefix:
        query = query.where(AxisObject.name.startswith(prefix, autoescape=True))
    return sorted(db.scalars(query.order_by(AxisObject.name).limit(limit)), key=_byte_order)


def _byte_order(row: ContainerStat | AxisObject) -> bytes:
    return row.name.encode()


# Handing a finished recording to footage ingest


def _complete_if_marked(db: Session, actor: Actor, container: AxisContainer) -> None:
    """Queue each clip of a recording just marked Complete for ingest, in this transaction; a
    recording already complete (its row locked while this runs) queues nothing again."""
    status = meta_value(container.meta, "Status")
    if container.kind != "recording" or container.completed_at is not None:
        return
    if status is None or status.lower() != "complete":
        return
    container.completed_at = clock.now()
    objects = list(db.scalars(select(AxisObject).where(AxisObject.container_id == container.id)))
    clips = sorted((o for o in objects if o.kind == "clip"), key=lambda o: o.name)
    track = next((o for o in sorted(objects, key=lambda o: o.name) if o.kind == "gnss"), None)
    officer = _officer_user_id(db, container)
    for clip in clips:
        payload = ingest_payload(container, clip, officer_user_id=officer, track=track)
        enqueue(db, INGEST_TASK, payload, dedupe_key=f"axis:{payload['upload_id']}")
    audit.record(
        db,
        actor=actor,
        action=AuditAction.AXIS_RECORDING_COMPLETED,
        target=Target("axis_recording", f"{container.account}/{container.name}"),
        details={
            "clips": len(clips),
            "camera_serial": container.camera_serial,
            "officer_user_id": officer,
            "gnss_track": track is not None,
        },
    )


def _officer_user_id(db: Session, container: AxisContainer) -> str:
    """Who recorded, as the force knows them: the User ID (collar number) the body worn manager
    stored on the user's object in ``Users``, else the user named in the recording's name."""
    assert container.user_id is not None
    user = db.scalar(
        select(AxisObject)
        .join(AxisContainer, AxisObject.container_id == AxisContainer.id)
        .where(
            AxisContainer.account == container.account,
            AxisContainer.name == names.USERS,
            AxisObject.name == container.user_id,
        )
    )
    collar = meta_value(user.meta, "UserID") if user is not None else None
    return collar or container.user_id


def ingest_payload(
    container: AxisContainer, clip: AxisObject, *, officer_user_id: str, track: AxisObject | None
) -> dict[str, object]:
    """What footage ingest is told about one clip of a finished recording."""
    assert container.triggered_at is not None
    started = meta_time(clip.meta, "StartTime") or container.triggered_at
    stopped = meta_time(clip.meta, "StopTime")
    return {
        "source": "axis",
        "upload_id": f"{container.account}/{container.name}/{clip.name}",
        "parts": [clip.storage_key],
        "size": clip.size,
        "sha256_received": clip.sha256,
        "device_serial": container.account,
        "metadata": {
            "filename": clip.name,
            "camera_serial": container.camera_serial,
            "recorded_at": started.isoformat(),
            # Axis sends MD5 ETags, checked as the clip arrived; the SHA-256 is ours, from the same pass.
            "sha256": clip.sha256,
            "officer_user_id": officer_user_id,
            "gnss_track_key": track.storage_key if track is not None else None,
            "stopped_at": stopped.isoformat() if stopped is not None else None,
        },
    }
