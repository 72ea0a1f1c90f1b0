"""Telemetry from cameras: one check for every message whichever way it came (MQTT or HTTP), the
latest state per camera, the position history and its downsampled read, and the map's read.

A message is refused with one of :data:`REFUSAL_REASONS`: ``malformed`` (not the payload's shape),
``impossible`` (coordinates, percentages or heading out of range, NaN, a time in the future),
``stale`` (older than ``OPENBWV_LIVE_MAX_AGE_SECONDS`` by the server's clock), ``out_of_order``
(not newer than what the camera last said) or ``unknown_camera`` (no camera of that serial in the
fleet). Messages are taken in batches: one transaction per batch, the latest state upserted once per
camera and the history inserted in bulk.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

import msgspec
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from openbwv import audit, clock, fleet, people
from openbwv.audit import AuditAction, Target
from openbwv.db import bulk_insert, in_values
from openbwv.errors import OpenbwvError
from openbwv.jobs import enqueue
from openbwv.live.models import CameraLiveState, PositionRecord
from openbwv.observability import Metrics
from openbwv.policy import Actor

REFUSAL_REASONS = ("malformed", "impossible", "stale", "out_of_order", "unknown_camera")
TASER_ARMED = "taser_armed"
EVENTS = frozenset({"recording_started", "recording_stopped", TASER_ARMED, "emergency"})
TASER_ARMED_TASK = "taser.armed"
"""The task the taser domain declares: a camera said its officer armed a Taser (automatic recording).
Its payload names the camera, the time and the place."""
# A camera's payload is a few hundred bytes; anything far larger is not telemetry.
MAX_PAYLOAD_BYTES = 4096
# A camera's clock may run a little ahead of the server's; further ahead is no real time.
FUTURE_SKEW = timedelta(seconds=60)
# Rows the nightly prune deletes per statement, so no statement holds the table long.
PRUNE_CHUNK = 10_000
READING_FIELDS = (
    "ts",
    "lat",
    "lon",
    "accuracy_m",
    "recording",
    "battery_pct",
    "storage_pct",
    "heading",
    "event",
)


POSITION_TABLE: Table = PositionRecord.__table__  # type: ignore[assignment]


class TelemetryRefused(OpenbwvError):
    """A message refused for one of :data:`REFUSAL_REASONS`, named as the rule (422)."""

    status_code = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, detail={"rule": reason, "message": message})
        self.reason = reason


class Reading(NamedTuple):
    """One valid message from one camera (a named tuple: the map makes 50,000 a second)."""

    serial: str
    ts: datetime
    lat: float
    lon: float
    accuracy_m: float
    recording: bool
    battery_pct: float
    storage_pct: float
    heading: float | None = None
    event: str | None = None

    def row(self) -> dict[str, Any]:
        return self._asdict()


@dataclass(frozen=True)
class Refusal:
    serial: str
    reason: str
    message: str


@dataclass
class Outcome:
    """What became of a batch: the readings stored and the messages refused."""

    accepted: list[Reading] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _number(payload: Mapping[str, Any], name: str, low: float, high: float, *, required: bool = True) -> Any:
    value = payload.get(name)
    # NaN fails every comparison and an infinity the range, so a finite number in range passes.
    if (type(value) is float or type(value) is int) and low <= value <= high:
        return float(value)
    if value is None:
        if required:
            raise TelemetryRefused("malformed", f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TelemetryRefused("malformed", f"{name} must be a number")
    raise TelemetryRefused("impossible", f"{name} must be between {low:g} and {high:g}")


def _time(payload: Mapping[str, Any]) -> datetime:
    value = payload.get("ts")
    if not isinstance(value, str):
        raise TelemetryRefused("malformed", "ts must be an ISO 8601 time with its zone")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise TelemetryRefused("malformed", "ts must be an ISO 8601 time with its zone") from None
    if ts.tzinfo is None:
        raise TelemetryRefused("malformed", "ts must give its zone (Z or +01:00)")
    return ts.astimezone(UTC)


class _Payload(msgspec.Struct):
    """The payload's shape, for the fast check of a well-formed message (:class:`ReadingCheck`)."""

    ts: str
    lat: float
    lon: float
    accuracy_m: float
    recording: bool
    battery_pct: float
    storage_pct: float
    heading: float | None = None
    event: str | None = None


_decode_payload = msgspec.json.Decoder(_Payload).decode


class ReadingCheck:
    """The check of every message received at ``now`` (:func:`parse_reading`), made once for a
    batch. A payload of the documented shape is decoded and checked in one pass (msgspec); any
    other is checked field by field, which names what is wrong, so the verdict is the same either
    way and the common case costs a few microseconds: the map checks 50,000 messages a second."""

    def __init__(self, *, now: datetime | None, max_age: timedelta) -> None:
        """Messages of a time from ``max_age`` before ``now`` to a little after it pass; with no
        ``now`` (a process whose clock is not the server's), any time passes and the window is
        applied later (:func:`time_refusal`)."""
        self.max_age = max_age
        self.latest = now + FUTURE_SKEW if now is not None else datetime.max.replace(tzinfo=UTC)
        self.earliest = now - max_age if now is not None else datetime.min.replace(tzinfo=UTC)

    def __call__(self, payload: bytes | str | Mapping[str, Any], *, serial: str) -> Reading:
        if isinstance(payload, bytes | str):
            if len(payload) > MAX_PAYLOAD_BYTES:
                raise TelemetryRefused("malformed", f"the payload is over {MAX_PAYLOAD_BYTES} bytes")
            reading = self._fast(payload, serial)
            if reading is not None:
                return reading
        return self._field_by_field(payload, serial)

    def _fast(self, payload: bytes | str, serial: str) -> Reading | None:
        """The reading of a payload that passes every check, else None (to be told why)."""
        try:
            p = _decode_payload(payload)
            ts = datetime.fromisoformat(p.ts)
        except (msgspec.DecodeError, ValueError):
            return None
        if ts.tzinfo is None:
            return None
        ts = ts if ts.tzinfo is UTC else ts.astimezone(UTC)
        heading = p.heading
        if (
            -90 <= p.lat <= 90
            and -180 <= p.lon <= 180
            and 0 <= p.accuracy_m <= 1_000_000
            and 0 <= p.battery_pct <= 100
            and 0 <= p.storage_pct <= 100
            and (heading is None or 0 <= heading <= 360)
            and (p.event is None or p.event in EVENTS)
            and self.earliest <= ts <= self.latest
        ):
            return Reading(serial, ts, p.lat, p.lon, p.accuracy_m, p.recording, p.battery_pct,
                           p.storage_pct, heading, p.event)  # fmt: skip
        return None

    def _field_by_field(self, payload: bytes | str | Mapping[str, Any], serial: str) -> Reading:
        if isinstance(payload, bytes | str):
            try:
                payload = json.loads(payload)
            except (ValueError, RecursionError):
                raise TelemetryRefused("malformed", "the payload is not JSON") from None
        if not isinstance(payload, Mapping):
            raise TelemetryRefused("malformed", "the payload must be a JSON object")
        ts = _time(payload)
        recording = payload.get("recording")
        if not isinstance(recording, bool):
            raise TelemetryRefused("malformed", "recording must be true or false")
        event = payload.get("event")
        if event is not None and event not in EVENTS:
            raise TelemetryRefused("malformed", f"event must be one of {', '.join(sorted(EVENTS))}")
        reading = Reading(
            serial=serial,
            ts=ts,
            lat=_number(payload, "lat", -90, 90),
            lon=_number(payload, "lon", -180, 180),
            accuracy_m=_number(payload, "accuracy_m", 0, 1_000_000),
            recording=recording,
            battery_pct=_number(payload, "battery_pct", 0, 100),
            storage_pct=_number(payload, "storage_pct", 0, 100),
            heading=_number(payload, "heading", 0, 360, required=False),
            event=event,
        )
        if ts > self.latest:
            raise TelemetryRefused("impossible", "ts is in the future")
        if ts < self.earliest:
            raise TelemetryRefused(
                "stale", f"the message is over {int(self.max_age.total_seconds())} seconds old"
            )
        return reading


def time_refusal(ts: datetime, *, now: datetime, max_age: timedelta) -> str | None:
    """The reason a reading of time ``ts`` is refused at ``now`` (``impossible`` or ``stale``),
    or None: the window of :class:`ReadingCheck`, for readings checked without it."""
    if ts > now + FUTURE_SKEW:
        return "impossible"
    return "stale" if ts < now - max_age else None


def parse_reading(
    payload: bytes | str | Mapping[str, Any], *, serial: str, now: datetime, max_age: timedelta
) -> Reading:
    """Check one message from the camera ``serial`` (the serial comes from its credential or its
    topic, never from the payload) and return it as a reading; refuse it with a reason otherwise.

    Keys beyond the payload's are ignored, so cameras may send more than this server reads.
    """
    return ReadingCheck(now=now, max_age=max_age)(payload, serial=serial)


def _known_cameras(db: Session, serials: Iterable[str]) -> dict[str, str]:
    """The fleet's own serial for each of ``serials`` that names a camera, asked of the fleet."""
    asked = {serial: serial.strip().upper() for serial in serials}
    cameras = fleet.serials_of_kind(db, "camera", among=asked.values())
    return {serial: stored for serial, stored in asked.items() if stored in cameras}


def _latest_times(db: Session, serials: list[str]) -> dict[str, datetime]:
    if not serials:
        return {}
    rows = db.execute(
        select(CameraLiveState.serial, CameraLiveState.ts).where(
            in_values(db, CameraLiveState.serial, serials)
        )
    )
    return {serial: ts for serial, ts in rows}


_STATE_COLUMNS = ("serial", *READING_FIELDS, "received_at")
# PostgreSQL: the batch is copied into a temporary table of the state's columns (emptied at commit)
# and upserted from it in one statement: a round trip or two for the batch, not one per camera.
_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS live_state_batch "
    "(LIKE live_camera_state INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY_BATCH = f"COPY live_state_batch ({', '.join(_STATE_COLUMNS)}) FROM STDIN"
_UPSERT_BATCH = (
    f"INSERT INTO live_camera_state ({', '.join(_STATE_COLUMNS)}) "
    f"SELECT {', '.join(_STATE_COLUMNS)} FROM live_state_batch ORDER BY serial "
    "ON CONFLICT (serial) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _STATE_COLUMNS[1:])
    + " WHERE live_camera_state.ts < excluded.ts"
)


def _upsert_states(db: Session, readings: list[Reading], now: datetime) -> None:
    """Make each reading its camera's latest state, unless the stored one is newer: the database
    decides, so two consumers racing on one camera never fail and never move it back."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(_BATCH_TABLE)
            with cursor.copy(_COPY_BATCH) as copy:
                for r in readings:
                    copy.write_row((*r, now))
            cursor.execute(_UPSERT_BATCH)
        return
    table: Table = CameraLiveState.__table__  # type: ignore[assignment]
    statement = sqlite.insert(table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.serial],
        set_={name: excluded[name] for name in _STATE_COLUMNS[1:]},
        where=table.c.ts < excluded.ts,
    )
    # Many parameter sets to one statement: compiled once and cached, sent in batches by the driver.
    db.execute(statement, [{**r.row(), "received_at": now} for r in readings])


def receive_readings(
    db: Session,
    messages: Sequence[tuple[str, bytes | str | Mapping[str, Any]]],
    *,
    now: datetime | None = None,
    max_age: timedelta,
) -> Outcome:
    """Check and store a batch of ``(serial, payload)`` messages in the caller's transaction: each
    camera's newest reading becomes its latest state, and every accepted one joins the history."""
    now = now or clock.now()
    outcome = Outcome()
    parsed: list[Reading] = []
    check = ReadingCheck(now=now, max_age=max_age)
    for serial, payload in messages:
        try:
            parsed.append(check(payload, serial=serial))
        except TelemetryRefused as refused:
            outcome.refused.append(Refusal(serial, refused.reason, refused.message))
    known = _known_cameras(db, (r.serial for r in parsed))
    latest = _latest_times(db, sorted(set(known.values())))
    newest: dict[str, Reading] = {}
    for reading in parsed:
        found = known.get(reading.serial)
        if found is None:
            outcome.refused.append(Refusal(reading.serial, "unknown_camera", "no camera of this serial"))
            continue
        serial = found
        before = latest.get(serial)
        if before is not None and reading.ts <= before:
            outcome.refused.append(
                Refusal(serial, "out_of_order", "not newer than the camera's latest message")
            )
            continue
        if serial != reading.serial:
            reading = reading._replace(serial=serial)
        latest[serial] = reading.ts
        newest[serial] = reading
        outcome.accepted.append(reading)
    if outcome.accepted:
        # In serial order, so that concurrent batches lock rows in one order and never deadlock.
        _upsert_states(db, [newest[s] for s in sorted(newest)], now)
        bulk_insert(db, POSITION_TABLE, [r.row() for r in outcome.accepted])
        for reading in outcome.accepted:
            if reading.event == TASER_ARMED:
                _announce_arming(db, reading)
    return outcome


def _announce_arming(db: Session, reading: Reading) -> None:
    """Queue the arming for the taser domain in the reading's transaction: it is acted on exactly when
    the reading is stored, and a message delivered twice is queued once."""
    armed_at = reading.ts.isoformat()
    enqueue(
        db,
        TASER_ARMED_TASK,
        {"camera_serial": reading.serial, "armed_at": armed_at, "lat": reading.lat, "lon": reading.lon},
        dedupe_key=f"{TASER_ARMED_TASK}:{reading.serial}:{armed_at}",
    )


def count(metrics: Metrics, transport: str, *, accepted: int = 0, refused: Iterable[str] = ()) -> None:
    """Count accepted and refused messages (by reason) in ``/metrics``."""
    if accepted:
        metrics.counter(
            "openbwv_live_telemetry_accepted_total", "Telemetry messages stored", ("transport",)
        ).labels(transport).inc(accepted)
    refusals = metrics.counter(
        "openbwv_live_telemetry_refused_total",
        "Telemetry messages refused, by reason",
        ("transport", "reason"),
    )
    for reason in refused:
        refusals.labels(transport, reason).inc()


def receive_one(
    db: Session, actor: Actor, payload: bytes | str | Mapping[str, Any], *, max_age: timedelta
) -> Reading:
    """Store one message from the calling camera, whose serial its credential names; refuse it with
    its reason."""
    if actor.device_serial is None:
        raise TelemetryRefused("unknown_camera", "only a camera reports its own telemetry")
    outcome = receive_readings(db, [(actor.device_serial, payload)], max_age=max_age)
    if outcome.refused:
        refusal = outcome.refused[0]
        raise TelemetryRefused(refusal.reason, refusal.message)
    return outcome.accepted[0]


def get_camera_state(db: Session, serial: str) -> CameraLiveState | None:
    """What the camera ``serial`` last said, or None if it never has."""
    return db.get(CameraLiveState, serial.strip().upper())


# How long a camera's last word on recording is trusted: one silent for longer is not known to be
# recording (the map's default for a camera gone quiet, ``OPENBWV_LIVE_STALE_SECONDS``).
RECORDING_TRUSTED_FOR = timedelta(seconds=120)


@dataclass(frozen=True)
class LatestRecordingState:
    """Whether a camera records, from its latest message (live view's ``RecordingState``): None
    when it never spoke, or not for ``trusted_for``."""

    trusted_for: timedelta = RECORDING_TRUSTED_FOR

    def is_recording(self, db: Session, serial: str) -> bool | None:
        state = get_camera_state(db, serial)
        if state is None or state.ts < clock.now() - self.trusted_for:
            return None
        return state.recording


def latest_cameras_near(
    db: Session, *, lat: float, lon: float, radius_m: float, seen_since: datetime
) -> list[tuple[str, float]]:
    """Cameras whose latest position, said at or after ``seen_since``, lies within ``radius_m`` of
    (``lat``, ``lon``): each serial with its distance in metres, nearest first."""
    # A box around the circle narrows the read; the distance decides.
    reach = radius_m / METRES_PER_DEGREE
    wide = reach / max(math.cos(math.radians(lat)), 1e-6)
    rows = db.execute(
        select(CameraLiveState.serial, CameraLiveState.lat, CameraLiveState.lon).where(
            CameraLiveState.ts >= seen_since,
            CameraLiveState.lat.between(lat - reach, lat + reach),
            CameraLiveState.lon.between(lon - wide, lon + wide),
        )
    )
    near = []
    for serial, camera_lat, camera_lon in rows:
        distance = _metres((lat, lon), (camera_lat, camera_lon))
        if distance <= radius_m:
            near.append((serial, distance))
    return sorted(near, key=lambda found: (found[1], found[0]))


def list_camera_states(db: Session) -> list[CameraLiveState]:
    """Every camera's latest state, by serial."""
    return list(db.scalars(select(CameraLiveState).order_by(CameraLiveState.serial)))


class Position(Protocol):
    """A camera's latest word, from the database (:class:`CameraLiveState`) or from a process's
    own subscription to the broker (:class:`Reading`)."""

    @property
    def serial(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def accuracy_m(self) -> float: ...
    @property
    def recording(self) -> bool: ...
    @property
    def battery_pct(self) -> float: ...
    @property
    def storage_pct(self) -> float: ...
    @property
    def heading(self) -> float | None: ...
    @property
    def event(self) -> str | None: ...


@dataclass(frozen=True)
class Holder:
    """Who holds a camera now, as the map shows them."""

    collar_number: str
    officer_name: str
    unit: str


class CameraState(NamedTuple):
    """A camera on the map: its latest state, who holds it now and whether it has gone quiet (a
    named tuple: the map makes one for every message)."""

    state: Position
    collar_number: str | None
    officer_name: str | None
    unit: str | None
    stale: bool


def camera_holders(db: Session) -> dict[str, Holder]:
    """Who holds each camera that is out now, by serial (asked of fleet and people)."""
    holders: dict[str, int] = {}
    for officer_id, serials in fleet.officers_holding(db, "camera").items():
        holders.update(dict.fromkeys(serials, officer_id))
    officers = people.officers_by_ids(db, holders.values())
    return {
        serial: Holder(officer.collar_number, officer.name, officer.unit.code)
        for serial, officer_id in holders.items()
        if (officer := officers.get(officer_id)) is not None
    }


def on_the_map(
    positions: Iterable[Position],
    holders: Mapping[str, Holder],
    *,
    unit: str | None = None,
    recording: bool | None = None,
    stale_after: timedelta,
    now: datetime,
) -> list[CameraState]:
    """The cameras of ``positions`` with their holders, filtered by the holder's unit code and the
    recording state."""
    shown = []
    for state in positions:
        if recording is not None and state.recording != recording:
            continue
        holder = holders.get(state.serial)
        if unit is not None and (holder is None or holder.unit != unit):
            continue
        shown.append(
            CameraState(
                state=state,
                collar_number=holder.collar_number if holder is not None else None,
                officer_name=holder.officer_name if holder is not None else None,
                unit=holder.unit if holder is not None else None,
                stale=state.ts < now - stale_after,
            )
        )
    return shown


def current_camera_states(
    db: Session,
    *,
    unit: str | None = None,
    recording: bool | None = None,
    stale_after: timedelta,
    now: datetime | None = None,
) -> list[CameraState]:
    """Every camera's latest position in the database with its holder, filtered by the holder's unit
    code and recording state, unaudited: for a reader that audited its opening (the map's stream)."""
    return on_the_map(
        list_camera_states(db),
        camera_holders(db),
        unit=unit,
        recording=recording,
        stale_after=stale_after,
        now=now or clock.now(),
    )


@dataclass(frozen=True)
class MapChanges:
    """Every camera on the map by serial, and which changed since the source was last asked (None:
    the source cannot tell) and which are gone."""

    states: Mapping[str, CameraState]
    changed: set[str] | None
    removed: set[str] = field(default_factory=set)


class MapStates(Protocol):
    """Where the map's cameras come from: the database, or a process's own subscription to the
    broker (:mod:`openbwv.live.map_state`). Asked by one reader (the process's shared read)."""

    def changes(self, *, stale_after: timedelta, now: datetime) -> MapChanges: ...


class MapRead(Protocol):
    """A read of every camera on the map, for :func:`camera_map`."""

    def current(self, *, stale_after: timedelta, now: datetime) -> list[CameraState]:
        """Every camera on the map now, in no set order."""
        ...


def camera_map(
    db: Session,
    actor: Actor,
    *,
    unit: str | None = None,
    recording: bool | None = None,
    stale_after: timedelta,
    now: datetime | None = None,
    source: MapRead | None = None,
) -> list[CameraState]:
    """Every camera's latest position with its holder's collar number, name and unit, filtered by
    the holder's unit code and recording state, from ``source`` (default: the database). Each read
    is audited: the map shows where officers are."""
    wanted_unit = unit.strip().upper() if unit else None
    now = now or clock.now()
    if source is None:
        shown = current_camera_states(
            db, unit=wanted_unit, recording=recording, stale_after=stale_after, now=now
        )
    else:
        shown = sorted(
            (
                camera
                for camera in source.current(stale_after=stale_after, now=now)
                if (recording is None or camera.state.recording == recording)
                and (wanted_unit is None or camera.unit == wanted_unit)
            ),
            key=lambda camera: camera.state.serial,
        )
    audit.record(
        db,
        actor=actor,
        action=AuditAction.LIVE_MAP_VIEWED,
        details={"unit": wanted_unit, "recording": recording, "cameras": len(shown)},
    )
    return shown


def position_history(
    db: Session,
    actor: Actor,
    *,
    serial: str,
    since: datetime,
    until: datetime | None = None,
    every: timedelta,
) -> list[PositionRecord]:
    """The camera's positions from ``since`` to ``until``, oldest first, at most one per ``every``
    (the first of each interval): the map's track. Audited, as it shows where an officer went."""
    until = until or clock.now()
    serial = serial.strip().upper()
    rows = db.scalars(
        select(PositionRecord)
        .where(PositionRecord.serial == serial, PositionRecord.ts >= since, PositionRecord.ts <= until)
        .order_by(PositionRecord.ts, PositionRecord.id)
    )
    kept: list[PositionRecord] = []
    for row in rows:
        if not kept or row.ts - kept[-1].ts >= every:
            kept.append(row)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.LIVE_TRACK_VIEWED,
        target=Target("device", serial),
        details={"since": since.isoformat(), "until": until.isoformat(), "points": len(kept)},
    )
    return kept


EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


def cameras_near(
    db: Session,
    latitude: float,
    longitude: float,
    radius_m: float,
    start: datetime,
    end: datetime,
    *,
    serials: Collection[str] | None = None,
) -> set[str]:
    """The cameras (of ``serials`` only, when given) whose position history puts them within
    ``radius_m`` of the point at some time in ``[start, end]``: read by time (by camera and time,
    given ``serials``), kept by a bounding box, then by distance."""
    reach = radius_m / METRES_PER_DEGREE
    wide = reach / max(math.cos(math.radians(latitude)), 1e-6)
    query = select(PositionRecord.serial, PositionRecord.lat, PositionRecord.lon).where(
        PositionRecord.ts >= start,
        PositionRecord.ts <= end,
        PositionRecord.lat.between(latitude - reach, latitude + reach),
        PositionRecord.lon.between(longitude - wide, longitude + wide),
    )
    if serials is not None:
        query = query.where(PositionRecord.serial.in_(sorted(serials)))
    rows = db.execute(query.distinct())
    return {serial for serial, lat, lon in rows if _metres((latitude, longitude), (lat, lon)) <= radius_m}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    x = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(x, math.radians(b[0] - a[0])) * EARTH_RADIUS_M


def prune_history(
    db: Session, *, keep: timedelta, now: datetime | None = None, limit: int = PRUNE_CHUNK
) -> int:
    """Delete up to ``limit`` positions older than ``keep``; returns how many went (the nightly job
    calls it again, a transaction each time, until fewer than ``limit`` go)."""
    cutoff = (now or clock.now()) - keep
    ids = list(db.scalars(select(PositionRecord.id).where(PositionRecord.ts < cutoff).limit(limit)))
    if ids:
        db.execute(delete(PositionRecord).where(PositionRecord.id.in_(ids)))
    return len(ids)
