from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from openbwv.db import Db
from openbwv.errors import API_ERRORS, NotFound
from openbwv.footage import categories, retention, service, tagging
from openbwv.footage.schemas import (
    CaseLinkIn,
    CategoryIn,
    CategoryOut,
    ClipOut,
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
    )


def _found(view: service.ClipView | None) -> ClipOut:
    if view is None:
        raise NotFound("clip")
    return clip_out(view)


@router.get("/footage", response_model=Page[ClipOut])
def find_footage(
    db: Db,
    paging: Paging,
    sha256: Annotated[str, Query(max_length=200, description="The clip's SHA-256, 64 hex characters.")],
    actor: Actor = Require(Permission.FOOTAGE_CLIP_SEARCH),
) -> Page[ClipOut]:
    """Clips by content hash, only those the caller may see (their own; for evidence managers, the
    clips held for review); deleted clips are hidden; each search is audited."""
    views, total = service.find_clips(db, actor, sha256=sha256, limit=paging.limit, offset=paging.offset)
    return Page(items=[clip_out(v) for v in views], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/footage/categories", response_model=list[CategoryOut])
def list_categories(db: Db, actor: Actor = Require(Permission.FOOTAGE_CLIP_TAG)) -> list[CategoryOut]:
    """The categories a clip may be tagged with, and how long each keeps a clip (no days: kept under
    its MoPI review group)."""
    return [CategoryOut.model_validate(c, from_attributes=True) for c in tagging.list_categories(db)]


@router.put("/footage/categories/{code}", response_model=CategoryOut)
def save_category(
    code: Annotated[str, Path(max_length=40)],
    body: CategoryIn,
    db: Db,
    actor: Actor = Require(Permission.FOOTAGE_RETENTION_MANAGE),
) -> CategoryOut:
    """Add a category or change its terms (audited with the old values). A shorter period applies
    to clips already tagged with it at the next retention run: check with ``--dry-run`` first."""
    terms = categories.CategoryTerms(**body.model_dump())
    return CategoryOut.model_validate(categories.save_category(db, actor, code, terms), from_attributes=True)


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
