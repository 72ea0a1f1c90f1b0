"""Footage: clips stored once by their content, where each came from, whose they are, and what they hold."""

from openbwv.footage.ingest import INGEST_TASK, PROBE_TASK, clip_key
from openbwv.footage.models import CLIP_STATES, Clip, ClipSource
from openbwv.footage.service import ClipView, clip_record, find_clips, get_clip_by_sha256

__all__ = [
    "CLIP_STATES",
    "INGEST_TASK",
    "PROBE_TASK",
    "Clip",
    "ClipSource",
    "ClipView",
    "clip_key",
    "clip_record",
    "find_clips",
    "get_clip_by_sha256",
]
