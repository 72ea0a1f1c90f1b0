"""Footage: clips stored once by their content, where each came from, whose they are, and what they hold."""

from openbwv.footage.ingest import INGEST_TASK, PROBE_TASK, clip_key
from openbwv.footage.models import CLIP_STATES, Clip, ClipSource
from openbwv.footage.search import ClipFilters, SearchPage, index_place, search_clips
from openbwv.footage.service import ClipView, clip_record, get_clip_by_sha256

__all__ = [
    "CLIP_STATES",
    "INGEST_TASK",
    "PROBE_TASK",
    "Clip",
    "ClipFilters",
    "ClipSource",
    "ClipView",
    "SearchPage",
    "clip_key",
    "clip_record",
    "get_clip_by_sha256",
    "index_place",
    "search_clips",
]
