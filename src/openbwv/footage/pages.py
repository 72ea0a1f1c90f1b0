"""Footage pages: the arrivals list, where evidence managers see clips come in from the docks, and a
clip's page, where its player, pictures and track are shown once the caller has stated a reason."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import Forbidden, OpenbwvError
from openbwv.footage import playback, service
from openbwv.footage.player import grant_durations
from openbwv.inputs import RecordId
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import redrawing_on_refusal
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 480, 320, 12


@router.get("/footage/arrivals", response_class=HTMLResponse)
def arrivals_page(
    request: Request, db: Db, actor: Actor = Require(Permission.FOOTAGE_ARRIVALS_READ)
) -> HTMLResponse:
    """The clips most recently received, newest first: metadata only; each view is audited."""
    views = service.list_arrivals(db, actor)
    return render(request, "footage/arrivals.html", {"title": "Arrivals", "views": views}, actor=actor)


def track_points(track: list[Any] | None) -> str:
    """The GPS track as an SVG polyline's points, north up, scaled to fit the map box."""
    fixes = [(float(lat), float(lon)) for _, lat, lon in (track or [])]
    if not fixes:
        return ""
    lats, lons = [lat for lat, _ in fixes], [lon for _, lon in fixes]
    span = max(max(lats) - min(lats), max(lons) - min(lons)) or 1e-6
    scale = min(MAP_WIDTH, MAP_HEIGHT) - 2 * MAP_MARGIN
    return " ".join(
        f"{MAP_MARGIN + (lon - min(lons)) / span * scale:.1f},"
        f"{MAP_HEIGHT - MAP_MARGIN - (lat - min(lats)) / span * scale:.1f}"
        for lat, lon in fixes
    )


def _clip_page(
    request: Request,
    db: Db,
    actor: Actor,
    clip_id: int,
    *,
    error: str | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = playback.clip_page(db, actor, clip_id=clip_id)
    content_query = ""
    if page.grant is not None:
        statement = {
            "reason": page.grant.reason_code,
            "incident_number": page.grant.incident_number or "",
            "note": page.grant.note or "",
        }
        content_query = urlencode({k: v for k, v in statement.items() if v})
    context = {
        "title": f"Clip {page.clip.id}",
        "page": page,
        "clip": page.clip,
        "content_query": content_query,
        "track": track_points(page.clip.gps_track),
        "map_width": MAP_WIDTH,
        "map_height": MAP_HEIGHT,
        "error": error,
        "entered": entered or {},
    }
    return render(request, "footage/clip.html", context, actor=actor, status_code=status_code)


@router.get("/footage/clips/{clip_id}", response_class=HTMLResponse)
def clip_page(
    request: Request, clip_id: RecordId, db: Db, actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY)
) -> HTMLResponse:
    """A clip's metadata and its audit history; within the caller's live grant to view it, the
    player, poster, thumbnail strip and GPS track; else the form to state a reason."""
    return _clip_page(request, db, actor, clip_id)


@router.post("/footage/clips/{clip_id}/view", dependencies=[Depends(check_csrf)])
def view_clip_from_form(
    request: Request,
    clip_id: RecordId,
    db: Db,
    reason: Annotated[str, Form(max_length=40)] = "",
    incident_number: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    actor: Actor = Require(Permission.FOOTAGE_CLIP_PLAY),
) -> Response:
    """State a reason to view the clip: a grant, and the viewing recorded in the audit log."""
    entered = {"reason": reason, "incident_number": incident_number, "note": note}

    def redraw(refusal: OpenbwvError) -> Response:
        return _clip_page(
            request,
            db,
            actor,
            clip_id,
            error=refusal.message,
            entered=entered,
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw, also=(Forbidden,)):
        playback.open_playback(
            db,
            actor,
            clip_id=clip_id,
            reason=playback.Reason(reason.strip(), incident_number or None, note or None),
            durations=grant_durations(request),
        )
    return RedirectResponse(f"/footage/clips/{clip_id}", status_code=303)
