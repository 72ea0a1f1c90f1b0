"""The library page's own rules: its filter form read into a search (``search.ClipFilters``), the
results placed on a map drawn offline (an SVG, no tile server), and the thumbnails of a search's
results.

A thumbnail is a picture of the footage, and pictures are shown only with a stated reason (a grant,
``playback.picture_key``), with one exception: a result's poster, served against the search that
listed it. ``thumbnail_key`` answers a poster only when the search event is the caller's own
``footage:clip:searched`` event, less than ``THUMBNAIL_HOURS`` old, listing that clip; anything else
is not found. The search event is the record of who saw which pictures, and why: their search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.audit import AuditAction, AuditEvent
from openbwv.errors import InvalidInput, NotFound
from openbwv.footage import playback
from openbwv.footage.search import Circle, ClipFilters, clip_position
from openbwv.footage.service import ClipView
from openbwv.policy import Actor
from openbwv.web.times import MissingLocalTime, local_text, parse_local

THUMBNAIL_HOURS = 1
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 480, 320, 16
TEXT_FIELDS = {
    "collar": "collar_number",
    "unit": "unit",
    "camera": "camera_serial",
    "category": "category",
    "incident": "incident",
    "state": "ingest_state",
    "sha256": "sha256",
}
FORM_FIELDS = (*TEXT_FIELDS, "from", "to", "lat", "lon", "radius", "evidence", "hold", "order")


def _when(field: str, value: str, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        return parse_local(value, zone)
    except MissingLocalTime as missing:
        raise InvalidInput(field, f"{missing}.") from None
    except ValueError:
        raise InvalidInput(field, "A date and time, such as 2026-11-26T08:00.") from None


def _number(field: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(field, "A number.") from None


def _yes_no(field: str, value: str) -> bool | None:
    if value in ("", "any"):
        return None
    if value in ("yes", "no"):
        return value == "yes"
    raise InvalidInput(field, "yes, no or any.")


def filters_from_form(form: Mapping[str, str], *, zone: ZoneInfo) -> ClipFilters:
    """The search the library's filter form asks for (empty fields ask nothing; times without a zone
    are in ``zone``, the force's); ``InvalidInput`` for a field that is no filter. The search checks
    the rest (category, unit, hash, radius)."""
    given = {k: (form.get(k) or "").strip() for k in FORM_FIELDS}
    place = [given["lat"], given["lon"], given["radius"]]
    near = None
    if any(place):
        if not all(place):
            raise InvalidInput("near", "A place needs a latitude, a longitude and a radius in metres.")
        near = Circle(
            _number("lat", given["lat"]), _number("lon", given["lon"]), _number("radius", given["radius"])
        )
    return ClipFilters(
        **{name: given[key] or None for key, name in TEXT_FIELDS.items()},
        recorded_from=_when("from", given["from"], zone),
        recorded_to=_when("to", given["to"], zone),
        near=near,
        evidence=_yes_no("evidence", given["evidence"]),
        hold=_yes_no("hold", given["hold"]),
    )


@dataclass(frozen=True)
class MapPoint:
    """One result on the map: where it is drawn, and the clip it links to."""

    x: float
    y: float
    clip_id: int
    label: str


def map_points(
    positions: list[tuple[int, str, tuple[float, float] | None]],
    *,
    width: int = MAP_WIDTH,
    height: int = MAP_HEIGHT,
    margin: int = MAP_MARGIN,
) -> list[MapPoint]:
    """Each positioned result (``(clip id, label, (latitude, longitude) or None)``) as a point on a
    ``width`` by ``height`` map, north up, one scale for both axes (as the clip page's track), the
    results fitted to the box and centred; results with no position are left off."""
    placed = [(clip_id, label, where) for clip_id, label, where in positions if where is not None]
    if not placed:
        return []
    lats = [where[0] for _, _, where in placed]
    lons = [where[1] for _, _, where in placed]
    span = max(max(lats) - min(lats), max(lons) - min(lons)) or 1e-6
    scale = (min(width, height) - 2 * margin) / span
    # Centre the drawing: the unused width or height shared either side.
    left = (width - (max(lons) - min(lons)) * scale) / 2
    bottom = (height - (max(lats) - min(lats)) * scale) / 2
    return [
        MapPoint(
            round(left + (lon - min(lons)) * scale, 1),
            round(height - bottom - (lat - min(lats)) * scale, 1),
            clip_id,
            label,
        )
        for clip_id, label, (lat, lon) in placed
    ]


def result_points(views: list[ClipView], *, zone: ZoneInfo) -> list[MapPoint]:
    """The search results on the map, each at its first fix or its camera's station, labelled with
    the time in ``zone`` (the force's)."""
    return map_points(
        [
            (
                view.clip.id,
                f"Clip {view.clip.id}, {local_text(view.clip.recorded_at, zone)}, "
                f"{view.collar_number or 'not attributed'}",
                clip_position(view.clip),
            )
            for view in views
        ]
    )


def thumbnail_key(
    db: Session, actor: Actor, *, clip_id: int, search_event_id: int, now: datetime | None = None
) -> str:
    """The storage key of a search result's poster, for the caller's own search that listed it less
    than ``THUMBNAIL_HOURS`` ago, while they may still see the clip; ``NotFound`` otherwise."""
    now = now or clock.now()
    event = db.get(AuditEvent, search_event_id)
    shown = (event.details or {}).get("clip_ids") if event is not None else None
    listed = isinstance(shown, list) and clip_id in shown
    if (
        event is None
        or not listed
        or event.action != AuditAction.FOOTAGE_CLIP_SEARCHED
        or actor.user_id is None
        or event.actor_user_id != actor.user_id
        or event.occurred_at <= now - timedelta(hours=THUMBNAIL_HOURS)
    ):
        raise NotFound("thumbnail")
    clip = playback.get_clip(db, actor, clip_id)
    if clip is None or clip.deleted_at is not None or clip.poster_key is None:
        raise NotFound("thumbnail")
    return clip.poster_key
