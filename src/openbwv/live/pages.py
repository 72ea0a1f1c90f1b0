"""Live pages: the control room's map of every camera, kept current by the map's event stream."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from openbwv.policy import Actor, Permission, Require
from openbwv.web.render import render
from openbwv.web.vendor import library_served

router = APIRouter(include_in_schema=False)


@router.get("/live/map", response_class=HTMLResponse)
def map_page(request: Request, actor: Actor = Require(Permission.LIVE_MAP_READ)) -> HTMLResponse:
    """Every camera on a map and in a list, filtered by unit and state; the positions come from
    ``/api/v1/live/cameras/stream`` (whose opening is audited), so the page itself reads nothing."""
    settings = request.app.state.settings
    context = {
        "title": "Live map",
        "leaflet": library_served(request, "leaflet"),
        "tile_url": settings.map_tile_url,
        "tile_attribution": settings.map_tile_attribution,
        "stale_seconds": settings.live_stale_seconds,
    }
    return render(request, "live/map.html", context, actor=actor)
