"""Footage: clips stored once by their content, where each came from, whose they are, and what they hold."""

from openbwv.footage.ingest import INGEST_TASK, PROBE_TASK, clip_key
from openbwv.footage.models import CLIP_STATES, Clip, ClipSource
from openbwv.footage.nearby import (
    ClipSpan,
    camera_clips,
    clip_spans,
    clips_near,
    clips_probed_since,
    keep_as_evidence,
    officer_clips,
    passed_near,
)
from openbwv.footage.search import ClipFilters, SearchPage, index_place, search_clips
from openbwv.footage.service import ClipView, clip_record, get_clip_by_sha256

__all__ = [
    "CLIP_STATES",
    "INGEST_TASK",
    "PROBE_TASK",
    "Clip",
    "ClipFilters",
    "ClipSource",
    "ClipSpan",
    "ClipView",
    "SearchPage",
    "camera_clips",
    "clip_key",
    "clip_record",
    "clip_spans",
    "clips_near",
    "clips_probed_since",
    "get_clip_by_sha256",
    "index_place",
    "keep_as_evidence",
    "officer_clips",
    "passed_near",
    "search_clips",
]
