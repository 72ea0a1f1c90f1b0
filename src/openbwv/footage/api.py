from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbwv.db import Db
from openbwv.errors import API_ERRORS
from openbwv.footage import service
from openbwv.footage.schemas import ClipOut
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
    )


@router.get("/footage", response_model=Page[ClipOut])
def find_footage(
    db: Db,
    paging: Paging,
    sha256: Annotated[str, Query(max_length=200, description="The clip's SHA-256, 64 hex characters.")],
    actor: Actor = Require(Permission.FOOTAGE_CLIP_SEARCH),
) -> Page[ClipOut]:
    """Clips by content hash, only those the caller may see (their own; for evidence managers, the
    clips held for review); each search is audited."""
    views, total = service.find_clips(db, actor, sha256=sha256, limit=paging.limit, offset=paging.offset)
    return Page(items=[clip_out(v) for v in views], total=total, limit=paging.limit, offset=paging.offset)
