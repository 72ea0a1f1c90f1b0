"""Clips, stored once by their content, and the sources (uploads, recordings) that delivered them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from openbwv import clock
from openbwv.db import Base, partial_index

# A clip's ingest state. ``stored``: its bytes are under ``clips/<sha256>`` and its probe is queued;
# ``ready``: probed, with its poster and thumbnails, attributed to an officer; ``held_for_review``:
# attributed to nobody (a camera not in the fleet, or one nobody held then), waiting for review;
# ``failed``: the probe could not read the file (the bytes are kept).
CLIP_STATES = ("stored", "ready", "held_for_review", "failed")
# Clips in these states still have work queued for them: the start-up sweep re-queues it.
UNFINISHED_CLIP_STATES = ("stored", "held_for_review")
# Why a clip is held for review.
REVIEW_REASONS = ("unknown_camera", "no_holder")

# What became of a source. ``received``: recorded, not yet ingested; ``stored``: it delivered a new
# clip; ``duplicate``: its bytes were already stored, it points at that clip; ``quarantined``: its
# bytes did not match the device's hash and wait under ``quarantine/``, with no clip.
SOURCE_OUTCOMES = ("received", "stored", "duplicate", "quarantined")
SOURCE_KINDS = ("tus", "axis")


# A clip the retention job may delete: not deleted yet, and nothing keeps it (an evidence flag, a legal
# hold, a link to a case). The same text is the partial index's condition and the job's WHERE, so that
# both databases see the index covers the query.
RETENTION_CANDIDATE = (
    "deleted_at IS NULL AND evidence_flag = false AND legal_hold = false AND case_reference IS NULL"
)
# A clip deleted and waiting out its recoverable window, its bytes still stored.
RECOVERABLE = "deleted_at IS NOT NULL AND destroyed_at IS NULL"
# A clip destroyed whose objects are not yet confirmed deleted from the store.
PURGE_PENDING = "destroyed_at IS NOT NULL AND purged_at IS NULL"
# What a search always asks (deleted clips are hidden), and its two flags: the partial indexes' conditions
# are the search's own WHERE text, so that both databases see the index covers the query.
NOT_DELETED = "deleted_at IS NULL"
# A clip's category as the search's index holds it: 0 for an untagged clip (no category has id 0).
# An expression, so that the retention job's queries on ``category_id`` cannot take that index
# over ``ix_clip_retention``, which holds only the clips that may go.
CATEGORY_KEY = "coalesce(category_id, 0)"
UNTAGGED_KEY = 0
EVIDENCE_KEPT = "evidence_flag = true AND deleted_at IS NULL"
LEGALLY_HELD = "legal_hold = true AND deleted_at IS NULL"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Clip(Base):
    """One recording's bytes, stored once under ``clips/<sha256>/`` however many times uploaded:
    ``storage_key`` names the object composed of the parts of the upload that delivered them."""

    __tablename__ = "clip"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(200))
    camera_serial: Mapped[str] = mapped_column(String(60))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    recorded_at: Mapped[datetime]
    ingest_state: Mapped[str] = mapped_column(String(20), default="stored")
    review_reason: Mapped[str | None] = mapped_column(String(20))
    failure: Mapped[str | None] = mapped_column(Text)
    # What the probe found in the file.
    probed_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    codec: Mapped[str | None] = mapped_column(String(40))
    width: Mapped[int | None]
    height: Mapped[int | None]
    frame_rate: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime | None]
    gps_track: Mapped[list[Any] | None] = mapped_column(JSON)
    """``[[seconds from start, latitude, longitude], …]``: the track delivered beside the file (an Axis
    recording's GNSS object), else the one the file carries."""
    poster_key: Mapped[str | None] = mapped_column(String(200))
    thumbnails_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Tags and what keeps a clip (``retention`` reads them): its category (None: not tagged, kept as
    # the default category says), the incident or crime number, an evidence flag, a legal hold and
    # a case reference; each change is an audit event keeping the old value.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("footage_category.id"))
    category: Mapped[FootageCategory | None] = relationship()
    incident_number: Mapped[str | None] = mapped_column(String(40))
    evidence_flag: Mapped[bool] = mapped_column(default=False)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    case_reference: Mapped[str | None] = mapped_column(String(40))
    # Deletion: ``deleted_at`` hides the clip with its bytes kept (recoverable); ``destroyed_at``
    # records that its bytes are gone. The row stays, with when and under which rule.
    deleted_at: Mapped[datetime | None]
    deletion_rule: Mapped[str | None] = mapped_column(String(200))
    destroyed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    """When the destroyed clip's objects were deleted from the store (after ``destroyed_at`` commits,
    so a run cut short between the two finishes the deletion next time)."""
    restored_at: Mapped[datetime | None]
    """When an evidence manager last restored the clip: its category's period runs again from then."""

    __table_args__ = (
        CheckConstraint(_one_of("ingest_state", CLIP_STATES), name="ingest_state"),
        CheckConstraint("destroyed_at IS NULL OR deleted_at IS NOT NULL", name="destroyed_deleted"),
        CheckConstraint(
            f"review_reason IS NULL OR {_one_of('review_reason', REVIEW_REASONS)}", name="review"
        ),
        Index("ix_clip_officer", "officer_id", "recorded_at"),
        Index("ix_clip_camera", "camera_serial", "recorded_at"),
        Index("ix_clip_state", "ingest_state"),
        # Footage that docked lately, read by other domains to link it to what happened (``nearby``).
        Index("ix_clip_probed", "probed_at"),
        # ``id`` last: the job reads each category's due clips in (recorded_at, id) order, a batch at a
        # time, straight off the index with no sort.
        Index("ix_clip_retention", "category_id", "recorded_at", "id", **partial_index(RETENTION_CANDIDATE)),
        Index("ix_clip_recoverable", "deleted_at", "id", **partial_index(RECOVERABLE)),
        Index("ix_clip_purge_pending", "destroyed_at", "id", **partial_index(PURGE_PENDING)),
        # Search (``search``): newest first over every clip, or the flagged or held ones, each read
        # off its index in (recorded_at, id) order and cut at the page; by incident or case reference
        # (few rows each, most clips have none).
        Index("ix_clip_recorded", "recorded_at", "id", "officer_id", **partial_index(NOT_DELETED)),
        # A category's clips (``CATEGORY_KEY``) in time order with their officer: a unit's (or a
        # team's) clips of one category read off one range newest first, the officer tested in the
        # index (a look-up per officer of the unit read five times the pages at ten million clips);
        # ``category_id`` itself last, so that PostgreSQL answers from the index alone. An officer's
        # own clips, or a search by collar number, read ``ix_clip_officer``.
        Index(
            "ix_clip_category_recorded",
            text(CATEGORY_KEY),
            "recorded_at",
            "id",
            "officer_id",
            "category_id",
            **partial_index(NOT_DELETED),
        ),
        Index("ix_clip_evidence", "recorded_at", "id", **partial_index(EVIDENCE_KEPT)),
        Index("ix_clip_hold", "recorded_at", "id", **partial_index(LEGALLY_HELD)),
        Index("ix_clip_incident_number", "incident_number", **partial_index("incident_number IS NOT NULL")),
        Index("ix_clip_case_reference", "case_reference", **partial_index("case_reference IS NOT NULL")),
    )


class ClipPlace(Base):
    """Where a clip was: its GPS track thinned to points some way apart, or, for a clip with no
    track, one point at its camera's station. ``cell`` numbers a grid square (``place.cell_of``) so
    that a search near a point reads a few ranges of one index; ``recorded_at`` is the clip's, so that
    a search near a point in a time window reads only that window of each range."""

    __tablename__ = "clip_place"

    clip_id: Mapped[int] = mapped_column(ForeignKey("clip.id"), primary_key=True)
    point: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cell: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    # The position last, so that the distance test reads the index alone, not each point's row.
    __table_args__ = (Index("ix_clip_place_cell", "cell", "recorded_at", "clip_id", "latitude", "longitude"),)


class FootageCategory(Base):
    """What a clip is about, and how long it is kept: data the force changes, seeded by migration 0015.

    ``retention_days`` set: a clip of the category is deleted that many days after it was recorded,
    unless something keeps it. None: the footage is evidential, kept under its MoPI review group
    (``mopi_group``, reviewed every ``review_years``) and never deleted by the retention job.
    The one ``is_default`` category is how an untagged clip is kept.
    """

    __tablename__ = "footage_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    retention_days: Mapped[int | None]
    mopi_group: Mapped[int | None]
    review_years: Mapped[int | None]
    is_default: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint("retention_days IS NULL OR retention_days >= 1", name="retention_days"),
        CheckConstraint("mopi_group IS NULL OR mopi_group IN (1, 2, 3)", name="mopi_group"),
        CheckConstraint("NOT is_default OR retention_days IS NOT NULL", name="default_deletes"),
        Index("uq_footage_category_default", "is_default", unique=True, **partial_index("is_default")),
    )


class ClipSource(Base):
    """One delivery of a clip's bytes: an upload or a recording fetched from a camera system.

    Two uploads of the same bytes are two sources of one clip. A quarantined source has no clip.
    ``payload`` keeps the ingest job's payload, so the start-up sweep can queue it again.
    Attribution is only ever from fleet's issue history; who the source says recorded is a note.
    """

    __tablename__ = "clip_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str] = mapped_column(String(120))
    device_serial: Mapped[str | None] = mapped_column(String(60))
    declared_sha256: Mapped[str] = mapped_column(String(64))
    received_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(255))
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clip.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20), default="received")
    quarantine_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What ingest noticed for a reviewer: ``attribution`` when the source named someone other than
    the issue history's holder, or named someone for a clip held for review; ``gnss_track`` when the
    track delivered beside the clip could not be read."""
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    ingested_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("source_kind", "source_id"),
        CheckConstraint(_one_of("source_kind", SOURCE_KINDS), name="kind"),
        CheckConstraint(_one_of("outcome", SOURCE_OUTCOMES), name="outcome"),
        CheckConstraint(
            "outcome = 'quarantined' OR outcome = 'received' OR clip_id IS NOT NULL", name="clip"
        ),
        Index("ix_clip_source_outcome", "outcome"),
    )


def category_key() -> ColumnElement[int]:
    """``CATEGORY_KEY`` as a query states it, literally, as the index does: a bound parameter in
    its place would keep the planner from matching the index."""
    return func.coalesce(Clip.category_id, literal_column(str(UNTAGGED_KEY)))
