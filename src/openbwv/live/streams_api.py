"""Live video's routes: a recording camera pushes its stream, a viewer with a live view reads it over
a WebSocket, and an outside media server (MediaMTX) asks whether each publisher and reader may.

None of them holds a database session while video flows: each makes short service calls before,
and while it streams, every ``RECHECK_SECONDS``, asks again whether the camera still records (a
stream exists only while it does) or the view is still live (expiry or an end stops the viewer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

import anyio
from fastapi import APIRouter, Depends, Path, Request, Response, WebSocket
from pydantic import Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect, WebSocketState

from openbwv.db import get_session_factory, reading, transaction
from openbwv.errors import (
    API_ERRORS,
    Conflict,
    NotFound,
    OpenbwvError,
    PasswordChangeRequired,
    Unauthenticated,
)
from openbwv.inputs import Input
from openbwv.live import mediamtx, relay, views
from openbwv.live.views_api import Options, Recording
from openbwv.policy import (
    Actor,
    DeviceScope,
    Permission,
    Public,
    RequireDevice,
    can,
    refuse_websocket,
    websocket_actor,
)
from openbwv.web.streams import CapsItsOwnBody, body_chunks

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=API_ERRORS)

RECHECK_SECONDS = 2.0
# A day of a camera's stream at a high bitrate: past it the camera reconnects.
MAX_STREAM_BYTES = 64 * 2**30
# WebSocket close codes (4000-4999 are the application's), each sent with a sentence saying why.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_NOT_LIVE = 4409
CLOSE_STREAM_ENDED = 1000

Serial = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")]
Relay = Annotated[relay.LiveRelay, Depends(relay.live_relay)]
T = TypeVar("T")


async def _briefly(
    factory: sessionmaker[Session], work: Callable[[Session], T], *, writes: bool = False
) -> T:
    """``work`` in a short transaction of its own, off the event loop."""

    def run() -> T:
        with transaction(factory) if writes else reading(factory) as db:
            return work(db)

    return await anyio.to_thread.run_sync(run)


@router.post("/streams/{serial}/ingest", status_code=204, dependencies=[CapsItsOwnBody])
async def ingest_stream(
    serial: Serial,
    request: Request,
    recording: Recording,
    live: Relay,
    actor: Actor = RequireDevice(DeviceScope.LIVE_INGEST),
) -> Response:
    """A recording camera's live stream, H.264 in MPEG-TS (``video/mp2t``) or fragmented MP4
    (``video/mp4``), sent as one chunked body for as long as it records. 204 when the camera ends
    the body; 404 for another camera's serial; 409 when the camera is not recording (or stops while sending), or already sends a
    stream; 422 when the bytes are not such video."""
    if actor.device_serial != serial:
        # A camera sends only its own stream; another camera's path is none of its business.
        raise NotFound("camera stream for this credential")
    container = relay.container_of(request.headers.get("content-type"))
    factory = get_session_factory(request)
    await _briefly(factory, lambda db: views.check_recording(db, serial, recording))
    publication = live.publish(serial, container)
    try:
        await _relay_body(request, publication, factory, serial, recording)
    except BaseException:
        with contextlib.suppress(relay.RemuxFailed):
            await publication.finish()
        raise
    await publication.finish()
    return Response(status_code=204)


async def _relay_body(
    request: Request,
    publication: relay.Publication,
    factory: sessionmaker[Session],
    serial: str,
    recording: views.RecordingState,
) -> None:
    checked = time.monotonic()
    async for chunk in body_chunks(request, limit=MAX_STREAM_BYTES):
        await publication.feed(chunk)
        if time.monotonic() - checked >= RECHECK_SECONDS:
            await _briefly(factory, lambda db: views.check_recording(db, serial, recording))
            checked = time.monotonic()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTING:
        await websocket.accept()
    if websocket.application_state == WebSocketState.CONNECTED:
        await websocket.close(code=code, reason=reason)


def _viewer(websocket: WebSocket) -> tuple[Actor | None, str | None]:
    """The caller, or why they may not watch: the route's permission is live view's."""
    actor = websocket_actor(websocket)
    if actor is None:
        return None, "Sign in to continue."
    if actor.must_change_password:
        return None, PasswordChangeRequired().message
    if not can(actor, Permission.LIVE_VIEW_OPEN):
        refuse_websocket(websocket, actor, {"permission": str(Permission.LIVE_VIEW_OPEN)})
        return None, "Your role may not watch live video."
    return actor, None


@router.websocket("/views/{view_id}/stream")
async def watch_view(websocket: WebSocket, view_id: int, live: Relay) -> None:
    """The camera's live stream under the caller's live view: binary messages, the fragmented MP4
    initialisation segment first, then fragments from the latest keyframe on. Closed with a reason:
    4401 not signed in, 4403 a role that may not watch, 4404 no such view of the caller's, 4409 the
    view has expired or ended or the camera is not sending; 1000 when the camera stops."""
    actor, refusal = await anyio.to_thread.run_sync(_viewer, websocket)
    if actor is None:
        code = CLOSE_UNAUTHENTICATED if refusal == "Sign in to continue." else CLOSE_FORBIDDEN
        await _close(websocket, code, refusal or "")
        return
    factory: sessionmaker[Session] = websocket.app.state.session_factory
    options = views.ViewOptions(
        minutes=websocket.app.state.settings.live_view_minutes,
        stream_url=websocket.app.state.settings.live_stream_url,
    )
    try:
        view = await _briefly(factory, lambda db: views.view_to_stream(db, actor, view_id, options=options))
    except OpenbwvError as error:
        await _close(
            websocket, CLOSE_NOT_LIVE if isinstance(error, Conflict) else CLOSE_NOT_FOUND, str(error)
        )
        return
    subscription = live.subscribe(view.camera_serial)
    if subscription is None:
        await _close(websocket, CLOSE_NOT_LIVE, f"Camera {view.camera_serial} is not sending a live stream.")
        return
    try:
        await _briefly(
            factory, lambda db: views.record_stream_read(db, actor, view, transport="websocket"), writes=True
        )
        await websocket.accept()
        ending = await _forward(websocket, subscription, factory, actor, view_id, options)
        await _close(websocket, *ending)
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()


async def _forward(
    websocket: WebSocket,
    subscription: relay.Subscription,
    factory: sessionmaker[Session],
    actor: Actor,
    view_id: int,
    options: views.ViewOptions,
) -> tuple[int, str]:
    """Send the stream until it ends or the view stops being live; the code and reason to close with."""
    fragments = aiter(subscription)
    checked = time.monotonic()
    while True:
        try:
            fragment = await asyncio.wait_for(anext(fragments), RECHECK_SECONDS)
        except StopAsyncIteration:
            return CLOSE_STREAM_ENDED, "The camera stopped sending its live stream."
        except TimeoutError:
            fragment = None
        # The view is checked again when no fragment came for RECHECK_SECONDS, and otherwise every
        # RECHECK_SECONDS, not for each fragment: a check is a database read, and a viewer receives
        # several fragments a second.
        if fragment is None or time.monotonic() - checked >= RECHECK_SECONDS:
            try:
                await _briefly(factory, lambda db: views.view_to_stream(db, actor, view_id, options=options))
            except OpenbwvError as error:
                return CLOSE_NOT_LIVE, str(error)
            checked = time.monotonic()
        if fragment is not None:
            await websocket.send_bytes(fragment)


class MediaServerAuthIn(Input):
    """What MediaMTX's external HTTP authentication sends about each publisher and reader."""

    user: str = Field(default="", max_length=200)
    password: str = Field(default="", max_length=500)
    token: str = Field(default="", max_length=500)
    ip: str = Field(default="", max_length=64)
    action: Literal["publish", "read", "playback", "api", "metrics", "pprof"]
    path: str = Field(default="", max_length=200)
    protocol: str = Field(default="", max_length=20)
    id: str | None = Field(default=None, max_length=100)
    query: str = Field(default="", max_length=1000)


@router.post("/media-server/auth", dependencies=[Public], status_code=204)
def media_server_auth(
    body: MediaServerAuthIn, request: Request, recording: Recording, options: Options
) -> Response:
    """MediaMTX's authentication hook (``authMethod: http``): 204 lets the publisher or reader in,
    401 keeps them out. A camera publishes only its own path (``cameras/SERIAL``) with its device
    credential while recording; a reader reads it only under a live view of theirs that is live,
    named by ``view=ID`` in the query, and each read admitted is audited. Anything else is refused."""
    factory = get_session_factory(request)
    asked = mediamtx.Asked(
        user=body.user,
        password=body.password,
        token=body.token,
        ip=body.ip,
        action=body.action,
        path=body.path,
        protocol=body.protocol,
        connection_id=body.id,
        query=body.query,
    )
    if not mediamtx.admit(factory, request.app.state.callers.identify, asked, recording, options):
        raise Unauthenticated(f"Not admitted to {asked.action} {asked.path or 'this path'}.")
    return Response(status_code=204)
