"""The live view page: the banner saying the view is audited, what was stated, the player reading the
camera's stream over the view's WebSocket, and the forms to renew or end the view."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db, SessionFactory
from openbwv.errors import NotFound, OpenbwvError
from openbwv.inputs import RecordId
from openbwv.live import views
from openbwv.live.views_api import Commands, MediaServer, Options, Recording, close_readers, tell_camera
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    view: views.LiveView,
    options: views.ViewOptions,
    actor: Actor,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": f"Live view of {view.camera_serial}",
        "view": view,
        "minutes": options.minutes,
        "error": error,
    }
    return render(request, "live/view.html", context, actor=actor, status_code=status_code)


@router.get("/live/views/{view_id}", response_class=HTMLResponse)
def view_page(
    request: Request,
    view_id: RecordId,
    db: Db,
    options: Options,
    actor: Actor = Require(Permission.LIVE_VIEW_OPEN),
) -> HTMLResponse:
    """The caller's own live view: while it is live, the player and the renew and end forms."""
    view = views.get_view(db, actor, view_id, options=options)
    if view is None:
        raise NotFound("live view")
    return _page(request, view, options, actor)


@router.post("/live/views/{view_id}/renew", dependencies=[Depends(check_csrf)])
def renew_from_page(
    request: Request,
    view_id: RecordId,
    db: Db,
    options: Options,
    recording: Recording,
    commands: Commands,
    background: BackgroundTasks,
    actor: Actor = Require(Permission.LIVE_VIEW_OPEN),
) -> Response:
    """Extend the view while the camera still records; refused on the page saying why."""

    def redraw(refusal: OpenbwvError) -> Response:
        view = views.get_view(db, actor, view_id, options=options)
        if view is None:
            raise NotFound("live view")
        return _page(request, view, options, actor, error=refusal.message, status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        view = views.renew_view(db, actor, view_id, recording=recording, options=options)
    tell_camera(background, options, commands, view.camera_serial, views.being_viewed(view))
    return RedirectResponse(f"/live/views/{view_id}", status_code=303)


@router.post("/live/views/{view_id}/end", dependencies=[Depends(check_csrf)])
def end_from_page(
    view_id: RecordId,
    db: Db,
    factory: SessionFactory,
    options: Options,
    commands: Commands,
    media_server: MediaServer,
    background: BackgroundTasks,
    actor: Actor = Require(Permission.LIVE_VIEW_END),
) -> Response:
    """End the view now; the player's stream closes within seconds, and its readers on the media
    server at once."""
    view = views.end_view(db, actor, view_id, options=options)
    tell_camera(background, options, commands, view.camera_serial, views.viewing_ended(view))
    close_readers(background, factory, media_server, view.id)
    return RedirectResponse(f"/live/views/{view_id}", status_code=303)
