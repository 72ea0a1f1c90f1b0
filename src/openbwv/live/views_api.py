"""``/api/v1/live``: reasons for live view, and opening, reading, renewing and ending a live view (which
closes the view's readers on the media server, after the commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from openbwv.access.grants import INCIDENT_LENGTH, NOTE_LENGTH
from openbwv.access.reasons import CODE_LENGTH
from openbwv.db import Db, SessionFactory
from openbwv.errors import API_ERRORS, NotFound
from openbwv.inputs import Input, RecordId
from openbwv.live import readers, views
from openbwv.live.commands import CameraCommands, camera_commands
from openbwv.live.mediamtx_api import MediaServerControl, media_server_control
from openbwv.policy import Actor, Permission, Require

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=API_ERRORS)


def view_options(request: Request) -> views.ViewOptions:
    """The force's live view choices, from its settings."""
    settings = request.app.state.settings
    return views.ViewOptions(
        minutes=settings.live_view_minutes,
        stream_url=settings.live_stream_url,
        notify_camera=settings.live_notify_camera,
    )


def commands(request: Request) -> CameraCommands:
    """How the force sends a message to a camera: its MQTT broker, or a log line."""
    return camera_commands(request.app.state.settings.mqtt_url)


def media_server(request: Request) -> MediaServerControl | None:
    """Where the force's media server closes readers (``OPENBWV_MEDIAMTX_API_URL``); None without one."""
    return media_server_control(request.app.state.settings.mediamtx_api_url)


Options = Annotated[views.ViewOptions, Depends(view_options)]
Recording = Annotated[views.RecordingState, Depends(views.recording_state)]
Commands = Annotated[CameraCommands, Depends(commands)]
MediaServer = Annotated[MediaServerControl | None, Depends(media_server)]


class LiveReasonOut(BaseModel):
    code: str
    label: str
    description: str
    permits_live_view: bool
    forbids_live_view: bool = Field(description="The force's rule forbids live view for this reason.")


class ViewIn(Input):
    free_text: ClassVar[frozenset[str]] = frozenset({"details"})

    camera_serial: str = Field(min_length=1, max_length=60)
    reason_code: str = Field(min_length=1, max_length=CODE_LENGTH, description="e.g. officer-safety")
    incident_number: str | None = Field(
        default=None, max_length=INCIDENT_LENGTH, description="The incident this view supports."
    )
    details: str | None = Field(
        default=None, max_length=NOTE_LENGTH, description="Why, where there is no incident number yet."
    )


class ViewOpenedOut(BaseModel):
    id: int
    expires_at: datetime
    stream_url: str | None


class ViewOut(BaseModel):
    id: int
    camera_serial: str
    viewer: str
    reason_code: str
    incident_number: str | None
    details: str | None
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    renewed_count: int
    state: str = Field(description="live, expired or ended")
    stream_url: str | None = Field(description="Where the player reads the stream; only while live.")
    banner: str = Field(description="Shown to the viewer throughout: the view is audited.")


def tell_camera(
    background: BackgroundTasks,
    options: views.ViewOptions,
    commands: CameraCommands,
    serial: str,
    message: dict[str, object],
) -> None:
    # A background task runs after the response, so after the request's transaction committed.
    if options.notify_camera:
        background.add_task(commands.send, serial, message)


def close_readers(
    background: BackgroundTasks,
    factory: sessionmaker[Session],
    media_server: MediaServerControl | None,
    view_id: int,
) -> None:
    """Close the view's readers on the media server, if there is one, once the request is answered."""
    # After the response, so after the request's transaction committed and its session closed.
    if media_server is not None:
        background.add_task(readers.close_readers, factory, media_server, view_id=view_id)


@router.get("/reasons", response_model=list[LiveReasonOut])
def list_reasons(db: Db, actor: Actor = Require(Permission.LIVE_VIEW_OPEN)) -> list[views.LiveReason]:
    """The force's reason codes in use, each with whether it permits live view."""
    return views.list_live_reasons(db)


@router.post("/views", response_model=ViewOpenedOut, status_code=201)
def open_view(
    body: ViewIn,
    db: Db,
    options: Options,
    recording: Recording,
    commands: Commands,
    background: BackgroundTasks,
    actor: Actor = Require(Permission.LIVE_VIEW_OPEN),
) -> views.LiveView:
    """Open a live view of a recording camera, for a reason the force permits for live view."""
    request = views.ViewRequest(
        camera_serial=body.camera_serial,
        reason_code=body.reason_code,
        incident_number=body.incident_number,
        details=body.details,
    )
    view = views.open_view(db, actor, request=request, recording=recording, options=options)
    tell_camera(background, options, commands, view.camera_serial, views.being_viewed(view))
    return view


@router.get("/views/{view_id}", response_model=ViewOut)
def get_view(
    view_id: RecordId, db: Db, options: Options, actor: Actor = Require(Permission.LIVE_VIEW_OPEN)
) -> views.LiveView:
    """The caller's live view: its state, expiry, stream and the banner saying it is audited."""
    view = views.get_view(db, actor, view_id, options=options)
    if view is None:
        raise NotFound("live view")
    return view


@router.post("/views/{view_id}/renew", response_model=ViewOut)
def renew_view(
    view_id: RecordId,
    db: Db,
    options: Options,
    recording: Recording,
    commands: Commands,
    background: BackgroundTasks,
    actor: Actor = Require(Permission.LIVE_VIEW_OPEN),
) -> views.LiveView:
    """Extend the caller's live view while the camera is still recording."""
    view = views.renew_view(db, actor, view_id, recording=recording, options=options)
    tell_camera(background, options, commands, view.camera_serial, views.being_viewed(view))
    return view


@router.delete("/views/{view_id}", response_model=ViewOut)
def end_view(
    view_id: RecordId,
    db: Db,
    factory: SessionFactory,
    options: Options,
    commands: Commands,
    media_server: MediaServer,
    background: BackgroundTasks,
    actor: Actor = Require(Permission.LIVE_VIEW_END),
) -> views.LiveView:
    """End a live view: the caller's own, or anyone's for professional standards; its readers on the
    media server are closed."""
    view = views.end_view(db, actor, view_id, options=options)
    tell_camera(background, options, commands, view.camera_serial, views.viewing_ended(view))
    close_readers(background, factory, media_server, view.id)
    return view
