"""Searching the footage library: by officer, unit, camera, time, place, tags and hash, within the
caller's record scope, newest first, a page at a time.

Paging is by keyset: the cursor names the last clip shown by ``(recorded_at, id)`` and the order, so
that clips arriving between pages neither repeat nor push others off. The total is counted only up
to ``COUNT_CAP``, off a limited subquery, so a broad search never counts millions of rows.

Unknown values: a category, unit or ingest state that does not exist is a mistake, refused with 422;
a collar number or camera serial that matches no clip simply finds nothing (an officer who may not
read the officer list would otherwise learn which collar numbers exist from the refusals).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Select,
    Subquery,
    TextClause,
    bindparam,
    false,
    func,
    null,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from openbwv import audit, people
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.footage.models import (
    CLIP_STATES,
    EVIDENCE_KEPT,
    LEGALLY_HELD,
    UNTAGGED_KEY,
    Clip,
    FootageCategory,
    category_key,
)
from openbwv.footage.place import MAX_RADIUS_M, Circle, clip_position, index_place, place_hits
from openbwv.footage.service import ClipView, checked_sha256, clip_facts, viewer
from openbwv.inputs import MAX_INT64
from openbwv.policy import Actor, Fact, Permission, RecordKind, Scope, scope, scope_clause

__all__ = [
    "COUNT_CAP",
    "MAX_LIMIT",
    "MAX_RADIUS_M",
    "UNTAGGED",
    "Circle",
    "ClipFilters",
    "SearchPage",
    "clip_position",
    "index_place",
    "search_clips",
]

COUNT_CAP = 10_000
MAX_LIMIT = 500
UNTAGGED = "untagged"
MAX_CURSOR_LENGTH = 200
TEXT_LENGTH = 60

# A column a page is ordered and resumed by: ``recorded_at`` or ``id``, of a clip or of a hit.
KeyColumn = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True)
class ClipFilters:
    """What a search asks; every filter given must hold. ``category``: a category code, or
    ``"untagged"``; ``incident``: an incident number or case reference; times are inclusive (a
    time without a zone is UTC)."""

    collar_number: str | None = None
    unit: str | None = None
    camera_serial: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    near: Circle | None = None
    category: str | None = None
    evidence: bool | None = None
    hold: bool | None = None
    incident: str | None = None
    ingest_state: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, the cursor of the next (None at the end) and the count of matches."""

    items: list[ClipView]
    next_cursor: str | None
    total: int
    total_exact: bool
    audit_event_id: int | None = None
    """The ``footage:clip:searched`` event that recorded this search (the library page's
    thumbnails are served against it)."""


def _text(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if len(cleaned) > TEXT_LENGTH or "\x00" in cleaned:
        raise InvalidInput(field, f"At most {TEXT_LENGTH} characters, with no control characters.")
    return cleaned or None


def _utc(field: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "A time between the years 1 and 9999.") from None


def _checked_circle(circle: Circle) -> Circle:
    numbers = (circle.latitude, circle.longitude, circle.radius_m)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
        raise InvalidInput("near", "The latitude, longitude and radius are finite numbers.")
    if not -90 <= circle.latitude <= 90:
        raise InvalidInput("near_lat", "A latitude is a number of degrees from -90 to 90.")
    if not -180 <= circle.longitude <= 180:
        raise InvalidInput("near_lon", "A longitude is a number of degrees from -180 to 180.")
    if not 0 < circle.radius_m <= MAX_RADIUS_M:
        raise InvalidInput("radius_m", f"A radius is more than 0 and at most {MAX_RADIUS_M:.0f} metres.")
    return circle


def _checked(filters: ClipFilters) -> ClipFilters:
    """The filters cleaned (text trimmed, times in UTC), or ``InvalidInput`` for the first that is
    no filter."""
    recorded_from = _utc("recorded_from", filters.recorded_from)
    recorded_to = _utc("recorded_to", filters.recorded_to)
    if recorded_from is not None and recorded_to is not None and recorded_from > recorded_to:
        raise InvalidInput("recorded_from", "The start of the time window is after its end.")
    ingest_state = _text("ingest_state", filters.ingest_state)
    if ingest_state is not None and ingest_state not in CLIP_STATES:
        raise InvalidInput("ingest_state", f"One of {', '.join(CLIP_STATES)}.")
    return ClipFilters(
        collar_number=_text("collar_number", filters.collar_number),
        unit=_text("unit", filters.unit),
        camera_serial=_text("camera_serial", filters.camera_serial),
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        near=_checked_circle(filters.near) if filters.near is not None else None,
        category=_text("category", filters.category),
        evidence=filters.evidence,
        hold=filters.hold,
        incident=_text("incident", filters.incident),
        ingest_state=ingest_state,
        sha256=checked_sha256(filters.sha256) if filters.sha256 is not None else None,
    )


def _conditions(db: Session, filters: ClipFilters) -> list[ColumnElement[bool] | TextClause]:
    """The WHERE terms of ``filters`` (already checked), besides the record scope and the place
    (``_matching`` joins the clips near a place)."""
    where: list[ColumnElement[bool] | TextClause] = [Clip.deleted_at.is_(None)]
    if filters.collar_number is not None:
        officer = people.get_officer(db, filters.collar_number)
        where.append(Clip.officer_id == officer.id if officer is not None else false())
    if filters.unit is not None:
        unit = people.get_unit(db, filters.unit)
        if unit is None:
            raise InvalidInput("unit", f"No unit has the code {filters.unit}.")
        where.append(clip_facts(db)[Fact.UNIT](frozenset({unit.id})))
    if filters.camera_serial is not None:
        where.append(Clip.camera_serial.in_(sorted({filters.camera_serial, filters.camera_serial.upper()})))
    if filters.recorded_from is not None:
        where.append(Clip.recorded_at >= filters.recorded_from)
    if filters.recorded_to is not None:
        where.append(Clip.recorded_at <= filters.recorded_to)
    if filters.category == UNTAGGED:
        where.append(category_key() == UNTAGGED_KEY)
    elif filters.category is not None:
        category_id = db.scalar(select(FootageCategory.id).where(FootageCategory.code == filters.category))
        if category_id is None:
            raise InvalidInput("category", f"No category has the code {filters.category}.")
        where.append(category_key() == category_id)
    if filters.evidence is not None:
        where.append(text(EVIDENCE_KEPT) if filters.evidence else Clip.evidence_flag.is_(False))
    if filters.hold is not None:
        where.append(text(LEGALLY_HELD) if filters.hold else Clip.legal_hold.is_(False))
    if filters.incident is not None:
        where.append(or_(Clip.incident_number == filters.incident, Clip.case_reference == filters.incident))
    if filters.ingest_state is not None:
        where.append(Clip.ingest_state == filters.ingest_state)
    if filters.sha256 is not None:
        where.append(Clip.sha256 == filters.sha256)
    return where


def _order(oldest_first: bool) -> str:
    return "asc" if oldest_first else "desc"


def encode_cursor(clip: Clip, *, oldest_first: bool) -> str:
    """The cursor of the page after ``clip``: base64url of compact JSON, without padding."""
    data = {"t": clip.recorded_at.astimezone(UTC).isoformat(), "i": clip.id, "o": _order(oldest_first)}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, oldest_first: bool) -> tuple[datetime, int]:
    """The ``(recorded_at, id)`` a cursor names, or ``InvalidInput`` for one this search did not give."""
    bad = InvalidInput("cursor", "Not a cursor from this search; start again without one.")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(data["t"])
        clip_id, order = data["i"], data["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError):
        raise bad from None
    if not isinstance(clip_id, int) or isinstance(clip_id, bool) or not 1 <= clip_id <= MAX_INT64:
        raise bad
    if at.tzinfo is None or order not in ("asc", "desc"):
        raise bad
    if order != _order(oldest_first):
        raise InvalidInput("cursor", "The cursor is from the search in the other order.")
    try:
        return at.astimezone(UTC), clip_id
    except OverflowError:
        raise bad from None


def _filters_given(filters: ClipFilters) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for field in fields(filters):
        value = getattr(filters, field.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Circle):
            value = {"latitude": value.latitude, "longitude": value.longitude, "radius_m": value.radius_m}
        if value is not None:
            given[field.name] = value
    return given


@dataclass(frozen=True)
class _Matching:
    """The ids of the clips a search matches (``count``), and those of a page of them (``page``)."""

    filters: ClipFilters
    where: list[ColumnElement[bool] | TextClause]
    hits_suffice: bool = False
    """Whether every hit of a place search is a match, so that none need be asked of its clip (see
    ``_hits_suffice``)."""

    @property
    def count(self) -> Select[int]:
        if self.filters.near is None:
            return select(Clip.id).where(*self.where)
        hits = self._hits()
        if self.hits_suffice:
            return select(hits.c.clip_id)
        return select(hits.c.clip_id).where(self._kept(hits))

    def page(self, *, limit: int, after: tuple[datetime, int] | None, oldest_first: bool) -> Select[Any, Any]:
        """The ids (``clip_id``) of ``limit`` clips after ``after`` in order, each with ``matches``:
        on the first page of a place search, the number of clips the search matches (the page sorts
        every hit already, and the hits asked of their clips are asked once, not again to count
        them); else NULL."""
        if self.filters.near is None:
            ids: Select[Any, Any] = select(Clip.id.label("clip_id"), null().label("matches"))
            ids = ids.where(*self.where)
            return self._paged(ids, Clip.recorded_at, Clip.id, limit, after, oldest_first)
        matches = func.count().over() if after is None else null()
        hits = self._hits()
        if self.hits_suffice:
            counted: Select[Any, Any] = select(hits.c.clip_id, matches.label("matches"))
            return self._paged(counted, hits.c.recorded_at, hits.c.clip_id, limit, after, oldest_first)
        # The hits are sorted first, then asked in order (until the page is full, on a later page:
        # a page of a town centre's month asks of some fifty hits, not of every one of thousands).
        ordered = select(hits.c.clip_id, hits.c.recorded_at)
        ordered = self._paged(ordered, hits.c.recorded_at, hits.c.clip_id, None, after, oldest_first)
        in_order = ordered.offset(0).subquery("hit_in_order")
        kept: Select[Any, Any] = select(in_order.c.clip_id, matches.label("matches"))
        return self._paged(
            kept.where(self._kept(in_order)),
            in_order.c.recorded_at,
            in_order.c.clip_id,
            limit,
            None,
            oldest_first,
        )

    def _hits(self) -> Subquery:
        near = self.filters.near
        assert near is not None
        return place_hits(
            near, recorded_from=self.filters.recorded_from, recorded_to=self.filters.recorded_to
        )

    def _kept(self, hits: Subquery) -> Exists:
        """Whether the clip of a hit is one ``where`` keeps, asked on ``(recorded_at, id)``, which
        the index of live clips holds. ``OFFSET 0`` keeps PostgreSQL from turning the question into
        a join, which it would answer by hashing every live clip of the time window (tens of
        thousands at ten million clips) where a town centre's month has a few thousand hits."""
        kept = select(Clip.id).where(
            Clip.id == hits.c.clip_id, Clip.recorded_at == hits.c.recorded_at, *self.where
        )
        return kept.offset(0).exists()

    @staticmethod
    def _paged(
        query: Select[Any, Any],
        recorded_at: KeyColumn,
        clip_id: KeyColumn,
        limit: int | None,
        after: tuple[datetime, int] | None,
        oldest_first: bool,
    ) -> Select[Any, Any]:
        if after is not None:
            key = tuple_(recorded_at, clip_id)
            last = tuple_(bindparam("after_at", after[0], type_=Clip.recorded_at.type), after[1])
            query = query.where(key > last if oldest_first else key < last)
        query = query.order_by(*_ordered(recorded_at, clip_id, oldest_first=oldest_first))
        return query.limit(limit) if limit is not None else query


def _hits_suffice(filters: ClipFilters, visible: Scope) -> bool:
    """Whether a search asks only where and when, of every clip the caller may see: then each hit of
    the place index is a match, since deleted clips are taken out of that index (``forget_places``)
    and the hits are read within the time window."""
    return visible.everything and set(_filters_given(filters)) <= {"near", "recorded_from", "recorded_to"}


def _ordered(
    recorded_at: KeyColumn, clip_id: KeyColumn, *, oldest_first: bool
) -> tuple[ColumnElement[Any], ...]:
    if oldest_first:
        return recorded_at.asc(), clip_id.asc()
    return recorded_at.desc(), clip_id.desc()


def _plan_for_these_values(db: Session) -> None:
    """Have PostgreSQL plan this transaction's searches for the values they carry. After five runs
    of one prepared statement it may keep a generic plan, made without knowing the category or the
    team: at ten million clips that plan read a category's whole window where the category's own
    plan reads a few hundred index entries (13 ms became 110 ms; see docs/PERFORMANCE.md)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def search_clips(
    db: Session,
    actor: Actor,
    filters: ClipFilters,
    *,
    limit: int = 50,
    cursor: str | None = None,
    oldest_first: bool = False,
) -> SearchPage:
    """The clips matching ``filters`` that ``actor`` may see (policy's footage record scope), deleted
    clips hidden, newest first (``oldest_first``: oldest first), ``limit`` after ``cursor``; the
    search is audited: who searched for what, and which clips it showed them."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"From 1 to {MAX_LIMIT}.")
    filters = _checked(filters)
    after = decode_cursor(cursor, oldest_first=oldest_first) if cursor is not None else None
    # Looked up whatever the caller may see, so that a bad code is refused the same for everyone.
    conditions = _conditions(db, filters)
    actor = viewer(db, actor)
    visible = scope(actor, Permission.FOOTAGE_CLIP_VIEW, RecordKind.FOOTAGE)
    clips: list[Clip] = []
    total, exact, next_cursor = 0, True, None
    if not visible.nothing:
        _plan_for_these_values(db)
        matching = _Matching(
            filters,
            [*conditions, scope_clause(visible, clip_facts(db))],
            hits_suffice=_hits_suffice(filters, visible),
        )
        page_ids = matching.page(limit=limit + 1, after=after, oldest_first=oldest_first).subquery("page")
        # The page's ids first, off the indexes alone where they hold every column tested; then
        # only the page's rows are read, not the row of every clip that matched.
        shown = aliased(Clip)
        page = select(shown, page_ids.c.matches).join(page_ids, shown.id == page_ids.c.clip_id)
        rows = db.execute(
            page.order_by(*_ordered(shown.recorded_at, shown.id, oldest_first=oldest_first))
        ).all()
        clips = [row[0] for row in rows]
        if len(clips) > limit:
            clips = clips[:limit]
            next_cursor = encode_cursor(clips[-1], oldest_first=oldest_first)
        counted: int | None = rows[0].matches if rows else None
        if after is None and next_cursor is None:
            total = len(clips)
        else:
            if counted is None:
                capped = matching.count.limit(COUNT_CAP + 1).subquery()
                counted = db.scalar(select(func.count()).select_from(capped)) or 0
            total, exact = min(counted, COUNT_CAP), counted <= COUNT_CAP
    officers = people.officers_by_ids(db, (c.officer_id for c in clips if c.officer_id is not None))
    event = audit.record(
        db,
        actor=actor,
        action=AuditAction.FOOTAGE_CLIP_SEARCHED,
        target=Target("footage_search", filters.sha256 or "clips"),
        details={
            "filters": _filters_given(filters),
            "order": "oldest" if oldest_first else "newest",
            "after": cursor is not None,
            "clip_ids": [c.id for c in clips],
            "subject_officer_ids": sorted({c.officer_id for c in clips if c.officer_id is not None}),
            "total": total,
            "total_exact": exact,
        },
    )
    views = [
        ClipView(c, officers[c.officer_id].collar_number if c.officer_id in officers else None) for c in clips
    ]
    db.flush()
    return SearchPage(
        items=views, next_cursor=next_cursor, total=total, total_exact=exact, audit_event_id=event.id
    )
