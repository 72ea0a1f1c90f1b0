"""Live JSON routes: telemetry in over HTTP (the embedded transport, no broker needed), the map's
GeoJSON, its server-sent updates and a camera's downsampled track."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from openbwv import clock
from openbwv.db import Db, get_session_factory
from openbwv.errors import API_ERRORS
from openbwv.live import telemetry
from openbwv.live.feed import DatabaseMapStates, MapFeed, SharedMapRead
from openbwv.live.map_state import LatestPositions
from openbwv.live.telemetry import MapRead, MapStates
from openbwv.observability import Metrics, app_metrics
from openbwv.policy import Actor, DeviceScope, Permission, Require, RequireDevice

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=API_ERRORS)

# The request body, documented for OpenAPI: the route reads it raw, so that a payload that is not
# JSON is refused with the same reason (``malformed``) as it is over MQTT.
TELEMETRY_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["ts", "lat", "lon", "accuracy_m", "recording", "battery_pct", "storage_pct"],
                "properties": {
                    "ts": {"type": "string", "format": "date-time"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                    "accuracy_m": {"type": "number", "minimum": 0},
                    "recording": {"type": "boolean"},
                    "battery_pct": {"type": "number", "minimum": 0, "maximum": 100},
                    "storage_pct": {"type": "number", "minimum": 0, "maximum": 100},
                    "heading": {"type": "number", "minimum": 0, "maximum": 360},
                    "event": {"type": "string", "enum": sorted(telemetry.EVENTS)},
                },
            }
        }
    },
}


class AcceptedOut(BaseModel):
    serial: str
    ts: datetime


class PointOut(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class CameraPropertiesOut(BaseModel):
    serial: str
    collar_number: str | None
    officer_name: str | None
    unit: str | None
    recording: bool
    battery_pct: float
    storage_pct: float
    accuracy_m: float
    heading: float | None
    event: str | None
    last_seen: datetime
    stale: bool


class CameraFeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointOut
    properties: CameraPropertiesOut


class CameraCollectionOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CameraFeatureOut]


class TrackPropertiesOut(BaseModel):
    serial: str
    times: list[datetime]
    recording: list[bool]


class LineStringOut(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


class TrackOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: LineStringOut
    properties: TrackPropertiesOut


async def raw_body(request: Request) -> bytes:
    return await request.body()


def _max_age(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.live_max_age_seconds)


def _stale_after(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.live_stale_seconds)


@router.post(
    "/telemetry", status_code=202, response_model=AcceptedOut, openapi_extra={"requestBody": TELEMETRY_BODY}
)
def receive_telemetry(
    request: Request,
    body: Annotated[bytes, Depends(raw_body)],
    db: Db,
    metrics: Annotated[Metrics, Depends(app_metrics)],
    actor: Actor = RequireDevice(DeviceScope.TELEMETRY),
) -> AcceptedOut:
    """A camera reports where it is and whether it records, signed in with its own credential (the
    serial is the credential's). 202 once stored; 422 naming the reason when refused."""
    try:
        reading = telemetry.receive_one(db, actor, body, max_age=_max_age(request))
    except telemetry.TelemetryRefused as refused:
        telemetry.count(metrics, "http", refused=[refused.reason])
        raise
    telemetry.count(metrics, "http", accepted=1)
    positions: LatestPositions | None = getattr(request.app.state, "live_positions", None)
    if positions is not None:
        positions.apply([reading])
    return AcceptedOut(serial=reading.serial, ts=reading.ts)


def _time(moment: datetime) -> str:
    """A UTC time (as every reading's and stored time is) as the API writes it."""
    return moment.isoformat().replace("+00:00", "Z")


_TRUE_FALSE = ("false", "true")
# JSON for each serial and holder shaped: few (a force's cameras and officers), asked for often.
_json_text = lru_cache(maxsize=200_000)(json.dumps)


@lru_cache(maxsize=100_000)
def _holder_text(collar_number: str | None, officer_name: str | None, unit: str | None) -> str:
    return (
        f'"collar_number":{json.dumps(collar_number)},"officer_name":{json.dumps(officer_name)},'
        f'"unit":{json.dumps(unit)}'
    )


def feature_text(camera: telemetry.CameraState) -> str:
    """A camera as its GeoJSON feature in JSON (:class:`CameraFeatureOut`'s shape), written
    directly: the map writes every camera that moved, up to the whole force every second, once for
    every browser it streams to. Coordinates and percentages are finite floats (as checked and as
    stored), whose ``repr`` is JSON."""
    state = camera.state
    serial = _json_text(state.serial)
    heading = "null" if state.heading is None else repr(state.heading)
    event = "null" if state.event is None else _json_text(state.event)
    holder = _holder_text(camera.collar_number, camera.officer_name, camera.unit)
    return (
        f'{{"type":"Feature","id":{serial},"geometry":{{"type":"Point","coordinates":'
        f"[{state.lon!r},{state.lat!r}]}},"
        f'"properties":{{"serial":{serial},{holder},"recording":{_TRUE_FALSE[state.recording]},'
        f'"battery_pct":{state.battery_pct!r},"storage_pct":{state.storage_pct!r},'
        f'"accuracy_m":{state.accuracy_m!r},"heading":{heading},"event":{event},'
        f'"last_seen":"{_time(state.ts)}","stale":{_TRUE_FALSE[camera.stale]}}}}}'
    )


def _broker_map(request: Request) -> MapStates | None:
    """The process's own map from the broker, where it keeps one; None: the database's."""
    source: MapStates | None = getattr(request.app.state, "live_map", None)
    return source


def _map_read(request: Request) -> MapRead | None:
    """Where an audited read of the map comes from: the process's shared read of its own map from
    the broker, or None for the database (read in the request's own session)."""
    return _shared_map_read(request) if _broker_map(request) is not None else None


@router.get("/cameras", response_model=CameraCollectionOut)
def camera_map(
    request: Request,
    db: Db,
    unit: Annotated[str | None, Query(max_length=20)] = None,
    recording: bool | None = None,
    actor: Actor = Require(Permission.LIVE_MAP_READ),
) -> Response:
    """Every camera's latest position as GeoJSON (``[lon, lat]``), with its holder's collar number,
    name and unit, recording state, battery, storage and whether it has gone quiet. Each read is
    audited."""
    cameras = telemetry.camera_map(
        db,
        actor,
        unit=unit,
        recording=recording,
        stale_after=_stale_after(request),
        source=_map_read(request),
    )
    # The whole force's cameras, written in the documented shape without a model's check of each.
    features = ",".join(feature_text(camera) for camera in cameras)
    return Response(f'{{"type":"FeatureCollection","features":[{features}]}}', media_type="application/json")


def _shared_map_read(request: Request) -> SharedMapRead:
    """The app's one read of the map that every open stream polls, made on the first stream."""
    state = request.app.state
    shared: SharedMapRead | None = getattr(state, "live_map_read", None)
    if shared is None:
        source = _broker_map(request) or DatabaseMapStates(get_session_factory(request))
        shared = state.live_map_read = SharedMapRead(
            source, stale_after=_stale_after(request), shape=feature_text
        )
    return shared


# Left out of the OpenAPI description: an event stream has no schema there, and a client generated
# from it (or a fuzzer) would wait out the stream's five minutes for a body.
@router.get("/cameras/stream", response_class=StreamingResponse, include_in_schema=False)
async def camera_stream(
    request: Request, actor: Actor = Require(Permission.LIVE_MAP_READ)
) -> StreamingResponse:
    """The map as server-sent events (``text/event-stream``): ``snapshot``, the GeoJSON of every
    camera, then ``update`` with the cameras that changed within a second of their message. No
    database session is held while it streams; the opening is audited as a read of the map is."""
    feed = MapFeed(
        factory=get_session_factory(request),
        actor=actor,
        stale_after=_stale_after(request),
        shape=feature_text,
        shared=_shared_map_read(request),
        opening_source=_map_read(request),
    )
    return StreamingResponse(
        feed.events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


@router.get("/cameras/{serial}/track", response_model=TrackOut)
def camera_track(
    serial: Annotated[str, Path(min_length=1, max_length=60)],
    db: Db,
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
    every_s: Annotated[int, Query(ge=1, le=3600)] = 30,
    actor: Actor = Require(Permission.LIVE_MAP_READ),
) -> TrackOut:
    """A camera's positions over the last ``minutes``, at most one per ``every_s`` seconds, as a
    GeoJSON line. Audited."""
    since = clock.now() - timedelta(minutes=minutes)
    points = telemetry.position_history(
        db, actor, serial=serial, since=since, every=timedelta(seconds=every_s)
    )
    return TrackOut(
        geometry=LineStringOut(coordinates=[(p.lon, p.lat) for p in points]),
        properties=TrackPropertiesOut(
            serial=serial.strip().upper(),
            times=[p.ts for p in points],
            recording=[p.recording for p in points],
        ),
    )
