"""The readers a media server let in under a live view, and closing each once its view is not live.

MediaMTX asks openbwv about a reader once, as it connects (``mediamtx.admit``), and never again, so
each read it lets in is remembered (:func:`remember_read`) and, once its view has ended, expired or
been ended by someone else, closed through the media server's API (:func:`close_readers`): right
after a view is ended through live view's routes, and by the job ``live.close_media_server_readers``
every few seconds for the rest (expiry, a grant ended through the access routes, a kick that failed).

A close is a ``live:stream:closed`` audit event naming the view, the session and the cause
(``ended`` by its viewer, ``expired``, or ``revoked``: ended by someone else), and marks the read
kicked, once: two runs closing the same reader record one event. A kick that fails is counted on the
read, logged and tried again by the next run; nothing waits on the media server holding a database
session. A read MediaMTX gave no id it can kick by is kept, with no id, but cannot be closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access, audit, clock
from openbwv.access import AccessGrant
from openbwv.audit import AuditAction, Target
from openbwv.db import reading, transaction
from openbwv.live.mediamtx_api import KickFailed, MediaServerControl, kickable_id
from openbwv.live.models import KICK_ERROR_LENGTH, KickCause, MediaServerRead
from openbwv.policy import SYSTEM

log = logging.getLogger(__name__)

CAMERA = "camera"


def remember_read(
    db: Session, *, view_id: int, protocol: str, connection_id: str | None, path: str
) -> MediaServerRead:
    """Keep a read the media server let in under the live view ``view_id``, to close it when the view
    is no longer live; without an id MediaMTX can kick by, it is kept but cannot be closed."""
    read = MediaServerRead(
        view_id=view_id,
        connection_id=kickable_id(protocol, connection_id),
        protocol=protocol,
        path=path,
        admitted_at=clock.now(),
        kick_attempts=0,
    )
    db.add(read)
    return read


@dataclass(frozen=True)
class DueRead:
    """A reader to close: its read, where and how it reads, and why it is closed."""

    read_id: int
    view_id: int
    connection_id: str
    protocol: str
    path: str
    camera_serial: str
    reason_code: str
    viewer: str
    cause: KickCause


def kick_cause(grant: AccessGrant, now: datetime) -> KickCause | None:
    """Why a reader under this view is closed now; None while the view is live."""
    state = access.grant_state(grant, now)
    if state == "live":
        return None
    if state == "expired":
        return KickCause.EXPIRED
    return KickCause.ENDED if grant.ended_by == grant.username else KickCause.REVOKED


def readers_to_close(db: Session, *, now: datetime, view_id: int | None = None) -> list[DueRead]:
    """The readers not yet closed whose view (``view_id``'s, or any) is no longer live, oldest first."""
    query = select(MediaServerRead).where(
        MediaServerRead.kicked_at.is_(None), MediaServerRead.connection_id.is_not(None)
    )
    if view_id is not None:
        query = query.where(MediaServerRead.view_id == view_id)
    reads = list(db.scalars(query.order_by(MediaServerRead.id)))
    grants = access.grants_by_id(db, {read.view_id for read in reads})
    due = []
    for read in reads:
        grant = grants[read.view_id]
        cause = kick_cause(grant, now)
        if cause is not None and read.connection_id is not None:
            due.append(
                DueRead(
                    read_id=read.id,
                    view_id=read.view_id,
                    connection_id=read.connection_id,
                    protocol=read.protocol,
                    path=read.path,
                    camera_serial=grant.record_id,
                    reason_code=grant.reason_code,
                    viewer=grant.username,
                    cause=cause,
                )
            )
    return due


def mark_kicked(db: Session, due: DueRead) -> bool:
    """Record that the reader was closed, with its audit event; False (nothing written) when another
    run recorded it first."""
    read = db.get(MediaServerRead, due.read_id, with_for_update=True)
    if read is None or read.kicked_at is not None:
        return False
    read.kicked_at, read.kick_cause, read.kick_error = clock.now(), due.cause, None
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.LIVE_STREAM_CLOSED,
        target=Target(CAMERA, due.camera_serial),
        reason=due.reason_code,
        details={
            "view_id": due.view_id,
            "viewer": due.viewer,
            "cause": str(due.cause),
            "connection_id": due.connection_id,
            "protocol": due.protocol,
            "path": due.path,
            "failed_attempts": read.kick_attempts,
        },
    )
    return True


def note_failed_kick(db: Session, due: DueRead, error: str) -> None:
    """Count a kick that failed on its read, saying how; the next run tries again."""
    read = db.get(MediaServerRead, due.read_id, with_for_update=True)
    if read is not None and read.kicked_at is None:
        read.kick_attempts += 1
        read.kick_error = error[:KICK_ERROR_LENGTH]


def close_readers(
    factory: sessionmaker[Session], control: MediaServerControl, *, view_id: int | None = None
) -> int:
    """Close on the media server each reader whose view (``view_id``'s, or any) is no longer live,
    each in short transactions of its own and none held while the media server answers; how many
    were closed. A kick that fails is counted, logged and left to the next run."""
    with reading(factory) as db:
        due = readers_to_close(db, now=clock.now(), view_id=view_id)
    closed = 0
    for read in due:
        try:
            control.kick(read.protocol, read.connection_id)
        except KickFailed as error:
            log.warning(
                "could not close a media server reader of live view %d: %s",
                read.view_id,
                error,
                extra={"fields": {"view_id": read.view_id, "connection_id": read.connection_id}},
            )
            with transaction(factory) as db:
                note_failed_kick(db, read, str(error))
            continue
        with transaction(factory) as db:
            closed += mark_kicked(db, read)
    return closed
