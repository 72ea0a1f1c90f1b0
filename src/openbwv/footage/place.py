"""Where clips were, searchable on any database without a spatial extension.

Each clip has a few rows in ``clip_place``: its GPS track thinned to points ``THIN_METRES`` apart (at
most ``MAX_POINTS``), or, for a clip with no track, one point at its camera's station (fleet). Each
point carries the number of its ``CELL_DEGREES`` grid square, counted row by row from the south-west
so that one row of squares (one band of latitude) is one contiguous range of numbers.

A search within a circle reads, for each row of squares its bounding box covers, one range of cells
(two where the box crosses the antimeridian) off the index ``(cell, recorded_at, clip_id)``, or, when
the box covers few cells, each cell by itself (so that a time window is sought within each cell), then
keeps the points within the radius by an equirectangular distance: the cosine of the circle's
latitude is worked out here and passed in, since SQLite has no trigonometry. Over the 20 km a search
may cover the approximation errs by well under one per cent. Thinning means a track is known to
``THIN_METRES`` / 2 or so: a clip whose track only grazes the circle may be missed by that much.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, delete, insert, or_, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from openbwv import fleet
from openbwv.db import transaction
from openbwv.footage.models import Clip, ClipPlace

CELL_DEGREES = 0.01
CELLS_PER_DEGREE = 100
COLUMNS = 360 * CELLS_PER_DEGREE
ROWS = 180 * CELLS_PER_DEGREE
# Metres in a degree of latitude (a sphere of the Earth's mean radius, 6,371,008.8 m).
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180
THIN_METRES = 100.0
MAX_POINTS = 50
MAX_RADIUS_M = 20_000.0
# Up to this many cells a search names each one (``cell IN (…)``), so that the index is entered once
# per cell at the start of the time window instead of read across every cell's whole history; past
# it (circles of several kilometres), the ranges.
MAX_LISTED_CELLS = 400


@dataclass(frozen=True)
class Circle:
    """A point and a radius in metres: where a search looks."""

    latitude: float
    longitude: float
    radius_m: float


def is_position(latitude: Any, longitude: Any) -> bool:
    """Whether the two are finite numbers of degrees within range (a fix, not noise)."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude))
    return (
        numbers
        and math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def cell_of(latitude: float, longitude: float) -> int:
    """The number of the grid square holding the point: row (from the south) times ``COLUMNS`` plus
    column (from the antimeridian, eastwards); 180° east is -180°."""
    return _row(latitude) * COLUMNS + _column(longitude)


def _row(latitude: float) -> int:
    return min(max(math.floor((latitude + 90) * CELLS_PER_DEGREE), 0), ROWS - 1)


def _column(longitude: float) -> int:
    return math.floor((longitude + 180) * CELLS_PER_DEGREE) % COLUMNS


def track_points(gps_track: Sequence[Any] | None) -> list[tuple[float, float]]:
    """The positions of a track's fixes (``[seconds, latitude, longitude]``), skipping any that is
    not a position."""
    points = []
    for fix in gps_track or ():
        if isinstance(fix, list | tuple) and len(fix) >= 3 and is_position(fix[1], fix[2]):
            points.append((float(fix[1]), float(fix[2])))
    return points


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two points, equirectangular (good for the short distances of one track)."""
    east = (b[1] - a[1] + 540) % 360 - 180
    x = math.radians(east) * math.cos(math.radians((a[0] + b[0]) / 2))
    y = math.radians(b[0] - a[0])
    return math.hypot(x, y) * 6_371_008.8


def thin(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points at least ``THIN_METRES`` from the one kept before, with the last; at most
    ``MAX_POINTS``, chosen evenly along the track when there are more."""
    kept: list[tuple[float, float]] = []
    for point in points:
        if not kept or distance_m(kept[-1], point) >= THIN_METRES:
            kept.append(point)
    if points and kept[-1] != points[-1]:
        kept.append(points[-1])
    if len(kept) > MAX_POINTS:
        step = (len(kept) - 1) / (MAX_POINTS - 1)
        kept = [kept[round(n * step)] for n in range(MAX_POINTS)]
    return kept


def index_place(db: Session, clip: Clip) -> int:
    """Write where ``clip`` was, replacing what was written before: its thinned track, else its
    camera's station if that has a position, else nothing. Called wherever a clip's track is set; the
    number of points written."""
    return index_places(db, [clip])


def index_places(db: Session, clips: Sequence[Clip]) -> int:
    """``index_place`` for many clips at once (one delete and one insert): the points written."""
    if any(clip.id is None for clip in clips):
        db.flush()
    rows = []
    for clip in clips:
        points = thin(track_points(clip.gps_track))
        if not points:
            station = fleet.camera_station_position(db, clip.camera_serial)
            points = [station] if station is not None else []
        rows += [
            {
                "clip_id": clip.id,
                "point": n,
                "cell": cell_of(lat, lon),
                "recorded_at": clip.recorded_at,
                "latitude": lat,
                "longitude": lon,
            }
            for n, (lat, lon) in enumerate(points)
        ]
    db.execute(delete(ClipPlace).where(ClipPlace.clip_id.in_([clip.id for clip in clips])))
    if rows:
        db.execute(insert(ClipPlace), rows)
    return len(rows)


def forget_places(db: Session, clip_ids: Sequence[int]) -> None:
    """Take deleted clips out of the place index: a search by place then reads only clips it may
    show (``index_place`` puts a restored clip back)."""
    db.execute(delete(ClipPlace).where(ClipPlace.clip_id.in_(clip_ids)))


REINDEX_BATCH = 1000


def reindex_places(
    factory: sessionmaker[Session], *, every_clip: bool = False, batch_size: int = REINDEX_BATCH
) -> Iterator[int]:
    """Place clips again, a batch per transaction, yielding the clips done so far: those with no
    track (placed at their camera's station, which may have gained a position or the camera moved
    station since), or ``every_clip``. Deleted clips stay out of the index."""
    after, done = 0, 0
    while True:
        with transaction(factory) as db:
            query = select(Clip).where(Clip.id > after, Clip.deleted_at.is_(None))
            clips = list(db.scalars(query.order_by(Clip.id).limit(batch_size)))
            if not clips:
                return
            # A clip with no track holds SQL NULL, JSON null or an empty list: told apart here.
            chosen = [c for c in clips if every_clip or not track_points(c.gps_track)]
            index_places(db, chosen)
        after, done = clips[-1].id, done + len(chosen)
        yield done


def clip_position(clip: Clip) -> tuple[float, float] | None:
    """Where to show ``clip`` on a map: the first fix of its track, else where ``index_place`` put
    it (its camera's station), else None."""
    points = track_points(clip.gps_track)
    if points:
        return points[0]
    db = object_session(clip)
    if db is None or clip.id is None:
        return None
    row = db.execute(
        select(ClipPlace.latitude, ClipPlace.longitude)
        .where(ClipPlace.clip_id == clip.id)
        .order_by(ClipPlace.point)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def cell_ranges(circle: Circle) -> tuple[list[tuple[int, int]], tuple[int, ...]]:
    """The ranges of cells the circle's bounding box covers, and the shifts of the circle's
    longitude (0, and ±360 where the box crosses the antimeridian) from which a point's distance
    must be measured: a box reaching past 180° east meets points near -180° as if at +180°."""
    reach = circle.radius_m / METRES_PER_DEGREE
    south, north = circle.latitude - reach, circle.latitude + reach
    scale = math.cos(math.radians(circle.latitude))
    wide = reach / scale if scale > 1e-9 else math.inf
    rows = range(_row(max(south, -90)), _row(min(north, 90)) + 1)
    shifts: tuple[int, ...]
    if south <= -90 or north >= 90 or wide >= 180:
        columns, shifts = [(0, COLUMNS - 1)], (0, -360, 360)
    else:
        west, east = circle.longitude - wide, circle.longitude + wide
        if west < -180:
            columns, shifts = [(_column(west + 360), COLUMNS - 1), (0, _column(east))], (0, 360)
        elif east >= 180:
            columns, shifts = [(_column(west), COLUMNS - 1), (0, _column(east - 360))], (0, -360)
        else:
            columns, shifts = [(_column(west), _column(east))], (0,)
    ranges = _merged((r * COLUMNS + low, r * COLUMNS + high) for r in rows for low, high in columns)
    return ranges, shifts


def place_hits(
    circle: Circle, *, recorded_from: datetime | None = None, recorded_to: datetime | None = None
) -> Subquery:
    """The clips with some point within ``circle`` (recorded within the window, when one is given,
    read off the same index), one row each: ``clip_id`` and ``recorded_at`` (the clip's own). A
    search joins them to ``clip`` on both columns, so that PostgreSQL can check each against the
    clip's index on ``(recorded_at, id)`` alone instead of reading every candidate clip's row."""
    ranges, shifts = cell_ranges(circle)
    reach = circle.radius_m / METRES_PER_DEGREE
    scale = math.cos(math.radians(circle.latitude))
    north = ClipPlace.latitude - circle.latitude

    def within(shift: int) -> ColumnElement[bool]:
        east = (ClipPlace.longitude - (circle.longitude + shift)) * scale
        return north * north + east * east <= reach * reach

    listed = sum(high - low + 1 for low, high in ranges) <= MAX_LISTED_CELLS
    cells = (
        ClipPlace.cell.in_([cell for low, high in ranges for cell in range(low, high + 1)])
        if listed
        else or_(*(ClipPlace.cell.between(low, high) for low, high in ranges))
    )
    places = select(ClipPlace.clip_id, ClipPlace.recorded_at).where(
        cells, or_(*(within(shift) for shift in shifts))
    )
    if recorded_from is not None:
        places = places.where(ClipPlace.recorded_at >= recorded_from)
    if recorded_to is not None:
        places = places.where(ClipPlace.recorded_at <= recorded_to)
    return places.group_by(ClipPlace.clip_id, ClipPlace.recorded_at).subquery("place_hit")
