"""The clip's bytes for a player and for a download, streamed from storage with no session held:
short service calls in transactions of their own come first, then the bytes flow."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from openbwv import audit
from openbwv.access import GrantDurations
from openbwv.db import get_session_factory, reading, transaction
from openbwv.errors import API_ERRORS, ErrorOut
from openbwv.footage import playback
from openbwv.inputs import RecordId
from openbwv.policy import Actor, Permission, Require
from openbwv.storage import store_of
from openbwv.web.ranges import UnsatisfiableRange, requested_range

router = APIRouter(prefix="/api/v1", tags=["footage"], responses=API_ERRORS)
T = TypeVar("T")
VIDEO = {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}
IMAGE = {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}

ReasonCode = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="The reason code for viewing (``openbwv reasons list``); required.",
    ),
]
IncidentNumber = Annotated[
    str | None, Query(max_length=40, description="The incident or crime number the viewing is for.")
]
Note = Annotated[str | None, Query(max_length=500, description="Why, when there is no incident number.")]


def grant_durations(request: Request) -> GrantDurations:
    """The force's grant lengths, from its settings."""
    settings = request.app.state.settings
    return GrantDurations(
        default=timedelta(minutes=settings.access_grant_minutes),
        maximum=timedelta(minutes=settings.access_grant_max_minutes),
    )


async def _reading(request: Request, work: Callable[[Session], T]) -> T:
    factory = get_session_factory(request)

    def run() -> T:
        with reading(factory) as db:
            return work(db)

    return await anyio.to_thread.run_sync(run)


async def _writing(request: Request, work: Callable[[Session], T]) -> T:
    factory = get_session_factory(request)

    def run() -> T:
        with transaction(factory) as db:
            return work(db)

    return await anyio.to_thread.run_sync(run)


@router.get(
    "/footage/{clip_id}/content",
    response_class=Response,
    responses={
        200: {"content": VIDEO, "description": "The whole clip."},
        206: {"content": VIDEO, "description": "The bytes the Range header asked for."},
        416: {"model": ErrorOut, "description": "The range starts past the end of the clip."},
    },
)
async def play_clip(
    request: Request,
    clip_id: RecordId,
    reason: ReasonCode,
    incident_number: IncidentNumber = None,
    note: Note = None,
    range_header: Annotated[str | None, Header(alias="Range", include_in_schema=False)] = None,
    actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY),
) -> Response:
    """A clip's original bytes for a player, whole or one HTTP Range (206), for a stated reason: the
    first request of a viewing session makes (or finds) the caller's grant to view the clip and is
    audited once; its later Range requests are not audited again. Only the storage chunks a range
    touches are read and decrypted."""
    stated = playback.Reason(reason, incident_number, note)
    found = await _reading(
        request, lambda db: playback.current_playback(db, actor, clip_id=clip_id, reason=stated)
    )
    if found is None:
        durations = grant_durations(request)
        found = await _writing(
            request,
            lambda db: playback.open_playback(db, actor, clip_id=clip_id, reason=stated, durations=durations),
        )
    headers = {
        "Accept-Ranges": "bytes",
        "X-Access-Grant": str(found.grant_id),
    }
    try:
        wanted = requested_range(range_header, found.size)
    except UnsatisfiableRange:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{found.size}"})
    store = store_of(request.app.state)
    if wanted is None:
        return StreamingResponse(
            store.read(found.storage_key),
            headers={**headers, "Content-Length": str(found.size)},
            media_type="video/mp4",
        )
    return StreamingResponse(
        store.read(found.storage_key, wanted.start, wanted.end),
        status_code=206,
        headers={**headers, "Content-Length": str(wanted.length), "Content-Range": wanted.content_range},
        media_type="video/mp4",
    )


@router.get(
    "/footage/{clip_id}/download",
    response_class=Response,
    responses={200: {"content": VIDEO, "description": "The clip, with its SHA-256 and the audit proof."}},
)
async def download_clip(
    request: Request,
    clip_id: RecordId,
    reason: ReasonCode,
    incident_number: IncidentNumber = None,
    note: Note = None,
    actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY),
) -> Response:
    """A clip's original bytes as a file, for a stated reason; each download is an audit event.
    ``Repr-Digest`` and ``X-Content-SHA256`` give the clip's SHA-256, ``X-Audit-Event`` the event
    that recorded the download and ``X-Audit-Proof`` its C2SP tlog-proof (base64), to check offline
    with ``openbwv audit check-proof``."""
    stated = playback.Reason(reason, incident_number, note)
    durations = grant_durations(request)
    export = await _writing(
        request,
        lambda db: playback.record_export(db, actor, clip_id=clip_id, reason=stated, durations=durations),
    )
    found = export.playback
    settings = request.app.state.settings
    factory = get_session_factory(request)
    proof = await anyio.to_thread.run_sync(lambda: audit.prove_event(factory, settings, export.event_id))
    digest = bytes.fromhex(found.sha256)
    headers: dict[str, Any] = {
        "Content-Disposition": f'attachment; filename="clip-{found.clip_id}-{found.sha256[:12]}.mp4"',
        "Content-Length": str(found.size),
        "Repr-Digest": f"sha-256=:{base64.b64encode(digest).decode()}:",
        "X-Content-SHA256": found.sha256,
        "X-Audit-Event": str(export.event_id),
        "X-Access-Grant": str(found.grant_id),
    }
    if proof is not None:
        headers["X-Audit-Proof"] = base64.b64encode(proof.encode()).decode()
    return StreamingResponse(
        store_of(request.app.state).read(found.storage_key), headers=headers, media_type="video/mp4"
    )


@router.get(
    "/footage/{clip_id}/poster",
    response_class=Response,
    responses={200: {"content": IMAGE, "description": "The clip's poster frame."}},
)
async def clip_poster(
    request: Request, clip_id: RecordId, actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY)
) -> Response:
    """The clip's poster frame, within the caller's live grant to view the clip."""
    return await _picture(request, actor, clip_id, "poster")


@router.get(
    "/footage/{clip_id}/thumbnails",
    response_class=Response,
    responses={200: {"content": IMAGE, "description": "The clip's thumbnail strip."}},
)
async def clip_thumbnails(
    request: Request, clip_id: RecordId, actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY)
) -> Response:
    """The clip's thumbnail strip, within the caller's live grant to view the clip."""
    return await _picture(request, actor, clip_id, "thumbnails")


async def _picture(request: Request, actor: Actor, clip_id: int, which: str) -> Response:
    key = await _reading(request, lambda db: playback.picture_key(db, actor, clip_id=clip_id, which=which))
    return StreamingResponse(store_of(request.app.state).read(key), media_type="image/jpeg")
