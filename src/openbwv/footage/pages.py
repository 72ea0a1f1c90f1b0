"""Footage pages: the library (search, thumbnails of its results, a map of them); the arrivals list,
where evidence managers see clips come in from the docks; a clip's page, where its player, pictures
and track are shown once the caller has stated a reason; an officer's own clips, a supervisor's
team's untagged clips and the evidence manager's queue, with the forms that tag clips."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from openbwv.csrf import check_csrf
from openbwv.db import Db, get_session_factory, reading
from openbwv.errors import Forbidden, NotFound, OpenbwvError
from openbwv.footage import library, playback, queues, service, tagging
from openbwv.footage.models import CLIP_STATES
from openbwv.footage.player import grant_durations
from openbwv.footage.search import search_clips
from openbwv.inputs import BigRecordId, RecordId
from openbwv.policy import Actor, Permission, Require
from openbwv.storage import store_of
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


Cursor = Annotated[str | None, Query(max_length=200, description="The page to continue from.")]
TAG_PAGES = {"mine": "/footage/mine", "untagged": "/footage/untagged"}


def _clip_list(
    request: Request,
    db: Db,
    actor: Actor,
    which: Literal["mine", "untagged"],
    *,
    cursor: str | None,
    due_soon: bool = False,
    error: str | None = None,
    entered: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if which == "mine":
        due_within = queues.DUE_SOON if due_soon else None
        found = queues.my_footage(db, actor, due_within=due_within, cursor=cursor)
        title = "My footage"
    else:
        found = queues.untagged_in_team(db, actor, cursor=cursor)
        title = "Untagged in my team"
    next_query = urlencode({"cursor": found.next_cursor, **({"due": "7"} if due_soon else {})})
    context = {
        "title": title,
        "which": which,
        "found": found,
        "due_soon": due_soon,
        "due_days": queues.DUE_SOON.days,
        "next_query": next_query if found.next_cursor else None,
        "categories": [c for c in tagging.list_categories(db) if c.is_active],
        "error": error,
        "entered": entered or {},
    }
    return render(request, "footage/clip_list.html", context, actor=actor, status_code=status_code)


@router.get("/footage/mine", response_class=HTMLResponse)
def my_footage_page(
    request: Request,
    db: Db,
    cursor: Cursor = None,
    due: Annotated[int | None, Query(ge=1, le=7, description="Only clips due within 7 days.")] = None,
    actor: Actor = Require(Permission.FOOTAGE_CLIP_TAG),
) -> HTMLResponse:
    """The caller's own clips, newest first, with their tags and when each is due for deletion."""
    return _clip_list(request, db, actor, "mine", cursor=cursor, due_soon=due is not None)


@router.get("/footage/untagged", response_class=HTMLResponse)
def untagged_page(
    request: Request, db: Db, cursor: Cursor = None, actor: Actor = Require(Permission.FOOTAGE_TEAM_TAG)
) -> HTMLResponse:
    """The untagged clips of the caller's team, oldest first, each with a form to tag it; audited."""
    return _clip_list(request, db, actor, "untagged", cursor=cursor)


@router.post("/footage/clips/{clip_id}/tags", dependencies=[Depends(check_csrf)])
def tag_clip_from_form(
    request: Request,
    clip_id: RecordId,
    db: Db,
    category: Annotated[str, Form(max_length=40)] = "",
    incident_number: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[Literal["mine", "untagged"], Form()] = "mine",
    actor: Actor = Require(Permission.FOOTAGE_CLIP_TAG),
) -> Response:
    """Set a clip's category (empty: untagged) and incident number from a list's form; audited."""
    entered = {"clip_id": clip_id, "category": category, "incident_number": incident_number}

    def redraw(refusal: OpenbwvError) -> Response:
        return _clip_list(
            request,
            db,
            actor,
            back,
            cursor=None,
            error=f"Clip {clip_id} was not tagged: {refusal.message}",
            entered=entered,
            status_code=refusal.status_code,
        )

    with redrawing_on_refusal(db, redraw):
        tagged = tagging.tag_clip(
            db, actor, clip_id, category=category.strip() or None, incident_number=incident_number
        )
        if tagged is None:
            raise NotFound("clip")
    return RedirectResponse(f"{TAG_PAGES[back]}#clip-{clip_id}", status_code=303)


@router.get("/footage/queue", response_class=HTMLResponse)
def evidence_queue_page(
    request: Request, db: Db, actor: Actor = Require(Permission.FOOTAGE_EVIDENCE_MANAGE)
) -> HTMLResponse:
    """Quarantined uploads, clips held for review and clips due for deletion this week; audited."""
    queue = queues.evidence_queue(db, actor)
    context = {"title": "Evidence queue", "queue": queue, "due_days": queues.DUE_SOON.days}
    return render(request, "footage/queue.html", context, actor=actor)


def _library(
    request: Request,
    db: Db,
    actor: Actor,
    form: dict[str, str],
    *,
    cursor: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = None
    if error is None:
        oldest_first = form.get("order") == "oldest"
        found = search_clips(
            db,
            actor,
            library.filters_from_form(form, zone=request.app.state.settings.zone),
            cursor=cursor,
            oldest_first=oldest_first,
        )
    next_query = None
    if found is not None and found.next_cursor:
        next_query = urlencode({**{k: v for k, v in form.items() if v}, "cursor": found.next_cursor})
    context = {
        "title": "Footage library",
        "form": form,
        "found": found,
        "points": library.result_points(found.items, zone=request.app.state.settings.zone) if found else [],
        "next_query": next_query,
        "categories": tagging.list_categories(db),
        "states": CLIP_STATES,
        "map_width": library.MAP_WIDTH,
        "map_height": library.MAP_HEIGHT,
        "error": error,
    }
    return render(request, "footage/library.html", context, actor=actor, status_code=status_code)


@router.get("/footage", response_class=HTMLResponse)
def library_page(
    request: Request, db: Db, cursor: Cursor = None, actor: Actor = Require(Permission.FOOTAGE_CLIP_SEARCH)
) -> HTMLResponse:
    """Search the clips the caller may see (audited), with a thumbnail of each result, a link to its
    page and a map of where they were; a page at a time."""
    form = {key: request.query_params.get(key, "")[:200] for key in library.FORM_FIELDS}

    def redraw(refusal: OpenbwvError) -> Response:
        return _library(
            request, db, actor, form, cursor=None, error=refusal.message, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw):
        return _library(request, db, actor, form, cursor=cursor)


@router.get("/footage/clips/{clip_id}/thumb", response_class=Response)
async def search_thumbnail(
    request: Request,
    clip_id: RecordId,
    search: Annotated[BigRecordId, Query(description="The audit event of the search that listed it.")],
    actor: Actor = Require(Permission.FOOTAGE_CLIP_SEARCH),
) -> Response:
    """A search result's poster, for the caller's own search that listed it within the hour; else
    not found. No session is held while the bytes flow."""
    factory = get_session_factory(request)

    def find() -> str:
        with reading(factory) as db:
            return library.thumbnail_key(db, actor, clip_id=clip_id, search_event_id=search)

    key = await anyio.to_thread.run_sync(find)
    return StreamingResponse(
        store_of(request.app.state).read(key), media_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )
