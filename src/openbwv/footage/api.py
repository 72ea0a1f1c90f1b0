from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from openbwv.db import Db
from openbwv.errors import API_ERRORS, InvalidInput, NotFound
from openbwv.footage import retention, search, service, tagging
from openbwv.footage.schemas import (
    CaseLinkIn,
    CategoryOut,
    ClipOut,
    ClipSearchOut,
    ClipTagsUpdate,
    EvidenceFlagIn,
    LegalHoldIn,
    RestoreIn,
)
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require

router = APIRouter(prefix="/api/v1", tags=["footage"], responses=API_ERRORS)


def clip_out(view: service.ClipView) -> ClipOut:
    clip = view.clip
    position = search.clip_position(clip)
    return ClipOut(
        id=clip.id,
        sha256=clip.sha256,
        size=clip.size,
        camera_serial=clip.camera_serial,
        collar_number=view.collar_number,
        recorded_at=clip.recorded_at,
        ingest_state=clip.ingest_state,
        review_reason=clip.review_reason,
        duration_s=clip.duration_s,
        codec=clip.codec,
        width=clip.width,
        height=clip.height,
        frame_rate=clip.frame_rate,
        started_at=clip.started_at,
        has_gps_track=bool(clip.gps_track),
        category=clip.category.code if clip.category is not None else None,
        incident_number=clip.incident_number,
        evidence_flag=clip.evidence_flag,
        legal_hold=clip.legal_hold,
        case_reference=clip.case_reference,
        deleted_at=clip.deleted_at,
        deletion_rule=clip.deletion_rule,
        destroyed_at=clip.destroyed_at,
        latitude=position[0] if position is not None else None,
        longitude=position[1] if position is not None else None,
    )


def _found(view: service.ClipView | None) -> ClipOut:
    if view is None:
        raise NotFound("clip")
    return clip_out(view)


def clip_filters(
    collar_number: Annotated[
        str | None, Query(max_length=40, description="The officer's collar number.")
    ] = None,
    unit: Annotated[
        str | None, Query(max_length=20, description="A unit's code: its officers' clips.")
    ] = None,
    camera_serial: Annotated[str | None, Query(max_length=60)] = None,
    recorded_from: Annotated[
        datetime | None, Query(description="Recorded at or after (UTC if no zone).")
    ] = None,
    recorded_to: Annotated[
        datetime | None, Query(description="Recorded at or before (UTC if no zone).")
    ] = None,
    near_lat: Annotated[float | None, Query(description="With near_lon and radius_m: where it was.")] = None,
    near_lon: Annotated[float | None, Query()] = None,
    radius_m: Annotated[float | None, Query(description="Metres from the point, at most 20,000.")] = None,
    category: Annotated[str | None, Query(max_length=40, description="A category code, or untagged.")] = None,
    evidence: Annotated[bool | None, Query(description="Flagged as evidence, or not.")] = None,
    hold: Annotated[bool | None, Query(description="Under a legal hold, or not.")] = None,
    incident: Annotated[
        str | None, Query(max_length=40, description="Incident number or case reference.")
    ] = None,
    ingest_state: Annotated[str | None, Query(max_length=20)] = None,
    sha256: Annotated[str | None, Query(max_length=200, description="The clip's SHA-256, 64 hex.")] = None,
) -> search.ClipFilters:
    """The search's filters from the query string; a place is the three of near_lat, near_lon and
    radius_m, or none of them."""
    place = (near_lat, near_lon, radius_m)
    if any(v is not None for v in place) and any(v is None for v in place):
        raise InvalidInput("near_lat", "A place is near_lat, near_lon and radius_m together.")
    return search.ClipFilters(
        collar_number=collar_number,
        unit=unit,
        camera_serial=camera_serial,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        near=search.Circle(near_lat, near_lon, radius_m)
        if near_lat is not None and near_lon is not None and radius_m is not None
        else None,
        category=category,
        evidence=evidence,
        hold=hold,
        incident=incident,
        ingest_state=ingest_state,
        sha256=sha256,
    )


@router.get("/footage", response_model=ClipSearchOut)
def find_footage(
    db: Db,
    filters: Annotated[search.ClipFilters, Depends(clip_filters)],
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT, description="Clips per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=search.MAX_CURSOR_LENGTH, description="next_cursor.")
    ] = None,
    order: Annotated[Literal["newest", "oldest"], Query()] = "newest",
    actor: Actor = Require(Permission.FOOTAGE_CLIP_SEARCH),
) -> ClipSearchOut:
    """Clips by officer, unit, camera, time, place, tags or hash, only those the caller may see (their
    own; a supervisor's team's; for evidence managers, those held for review and those granted);
    deleted clips are hidden; newest first, a page at a time by cursor; each search is audited."""
    page = search.search_clips(db, actor, filters, limit=limit, cursor=cursor, oldest_first=order == "oldest")
    return ClipSearchOut(
        items=[clip_out(v) for v in page.items],
        next_cursor=page.next_cursor,
        total=page.total,
        total_exact=page.total_exact,
        limit=limit,
    )


@router.get("/footage/categories", response_model=list[CategoryOut])
def list_categories(db: Db, actor: Actor = Require(Permission.FOOTAGE_CLIP_TAG)) -> list[CategoryOut]:
    """The categories a clip may be tagged with, and how long each keeps a clip (no days: kept under
    its MoPI review group)."""
    return [CategoryOut.model_validate(c, from_attributes=True) for c in tagging.list_categories(db)]


@router.get("/footage/deleted", response_model=Page[ClipOut])
def list_deleted(
    db: Db, paging: Paging, actor: Actor = Require(Permission.FOOTAGE_RETENTION_MANAGE)
) -> Page[ClipOut]:
    """Clips the retention job deleted whose bytes are still kept: restorable until the window ends."""
    clips, total = retention.list_recoverable(db, limit=paging.limit, offset=paging.offset)
    return Page(
        items=[clip_out(service.clip_view(db, c)) for c in clips],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.patch("/footage/{clip_id}/tags", response_model=ClipOut)
def tag_clip(
    clip_id: RecordId, body: ClipTagsUpdate, db: Db, actor: Actor = Require(Permission.FOOTAGE_CLIP_TAG)
) -> ClipOut:
    """Set a clip's category and incident number (the fields given); audited with the old values."""
    given = body.model_fields_set
    return _found(
        tagging.tag_clip(
            db,
            actor,
            clip_id,
            category=body.category if "category" in given else tagging.UNCHANGED,
            incident_number=body.incident_number if "incident_number" in given else tagging.UNCHANGED,
            note=body.note,
        )
    )


@router.put("/footage/{clip_id}/evidence", response_model=ClipOut)
def flag_evidence(
    clip_id: RecordId,
    body: EvidenceFlagIn,
    db: Db,
    actor: Actor = Require(Permission.FOOTAGE_EVIDENCE_MANAGE),
) -> ClipOut:
    """Flag a clip as evidence, or take the flag off; a flagged clip is never deleted."""
    return _found(tagging.set_evidence_flag(db, actor, clip_id, flagged=body.flagged, reason=body.reason))


@router.put("/footage/{clip_id}/hold", response_model=ClipOut)
def hold_clip(
    clip_id: RecordId, body: LegalHoldIn, db: Db, actor: Actor = Require(Permission.FOOTAGE_EVIDENCE_MANAGE)
) -> ClipOut:
    """Place a legal hold on a clip, or release it; a held clip is never deleted."""
    return _found(tagging.set_legal_hold(db, actor, clip_id, held=body.held, reason=body.reason))


@router.put("/footage/{clip_id}/case", response_model=ClipOut)
def link_case(
    clip_id: RecordId, body: CaseLinkIn, db: Db, actor: Actor = Require(Permission.FOOTAGE_EVIDENCE_MANAGE)
) -> ClipOut:
    """Link a clip to a case by reference, or unlink it (null); a clip of an open case is never deleted."""
    return _found(
        tagging.link_case(db, actor, clip_id, case_reference=body.case_reference, reason=body.reason)
    )


@router.post("/footage/{clip_id}/restore", response_model=ClipOut)
def restore_clip(
    clip_id: RecordId,
    body: RestoreIn,
    db: Db,
    request: Request,
    actor: Actor = Require(Permission.FOOTAGE_RETENTION_MANAGE),
) -> ClipOut:
    """Bring back a deleted clip inside its recoverable window; 409 once the window has passed."""
    window = retention.recovery_window(request.app.state.settings)
    return _found(retention.restore_clip(db, actor, clip_id, reason=body.reason, window=window))
