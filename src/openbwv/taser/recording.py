"""Automatic recording: an armed Taser makes the service tell the officer's camera, and every camera
seen near the arming, to start recording.

Which cameras. The officer's own: the camera that reported the arming and, when the arming names a
Taser, every camera its holder had at the time (asked of fleet). Near: every camera whose latest
position (asked of live) lies within the ``record_radius_m`` setting of the arming and is at most
``record_seen_within_s`` old. An arming older than that window starts nothing: a camera told hours
later would record nothing of it.

How it runs. Each command is a row against its arming, written in the caller's transaction with one
audit event per arming naming the cameras; the same arming heard twice (a redelivered message, two
consumers) commands nobody twice, as the unique index decides. Publishing waits for the commit: the
rows queue :data:`SEND_TASK`, which publishes each on ``openbwv/cameras/{serial}/command`` through
live's ``CameraCommands`` and records when it was sent or why it was not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock, fleet, live
from openbwv.audit import AuditAction, Target
from openbwv.db import transaction
from openbwv.jobs import enqueue
from openbwv.policy import SYSTEM
from openbwv.taser.models import ARMING_SOURCES, FAILURE_LENGTH, RecordCommand
from openbwv.taser.settings import setting

SEND_TASK = "taser.send_record_commands"
OWN_CAMERA, WITHIN_RADIUS = "own_camera", "within_radius"


@dataclass(frozen=True)
class Choice:
    """A camera to tell, why, and how far it was from the arming (None where that is not known)."""

    serial: str
    reason: str
    distance_m: float | None


def _serial(value: str) -> str:
    return value.strip().upper()


def _seen_within(db: Session) -> timedelta:
    return timedelta(seconds=setting(db, "record_seen_within_s"))


def own_cameras(
    db: Session, *, camera_serial: str | None, taser_serial: str | None, at: datetime
) -> list[str]:
    """The armed officer's cameras: the reporting camera, and those the Taser's holder had at ``at``."""
    cameras = [camera_serial] if camera_serial else []
    holder = fleet.holder_at(db, taser_serial, at) if taser_serial else None
    if holder is not None:
        cameras += [
            period.device_serial
            for period in fleet.list_issue_periods(db, device_kind="camera", since=at, until=at)
            if period.officer_id == holder.officer_id
        ]
    return list(dict.fromkeys(cameras))


def choose_cameras(
    db: Session,
    *,
    own: Sequence[str],
    lat: float | None,
    lon: float | None,
    radius_m: float,
    seen_since: datetime,
) -> list[Choice]:
    """The cameras to tell: the officer's own first, then those seen within ``radius_m`` of the
    arming since ``seen_since``, nearest first."""
    near = (
        live.latest_cameras_near(db, lat=lat, lon=lon, radius_m=radius_m, seen_since=seen_since)
        if lat is not None and lon is not None
        else []
    )
    distances = dict(near)
    chosen = [Choice(serial, OWN_CAMERA, distances.get(serial)) for serial in own]
    chosen += [Choice(serial, WITHIN_RADIUS, distance) for serial, distance in near if serial not in own]
    return chosen


def _position_of(db: Session, serials: Sequence[str], seen_since: datetime) -> tuple[float, float] | None:
    """Where the first of ``serials`` to have said so recently is."""
    for serial in serials:
        state = live.get_camera_state(db, serial)
        if state is not None and state.ts >= seen_since:
            return state.lat, state.lon
    return None


def start_recording(
    db: Session,
    *,
    source: str,
    armed_at: datetime,
    camera_serial: str | None = None,
    taser_serial: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    now: datetime | None = None,
) -> list[RecordCommand]:
    """Tell the cameras of an arming to record: heard from ``source`` (``telemetry`` from the camera
    ``camera_serial``, or ``device_log`` from the Taser ``taser_serial``) at ``armed_at``, where the
    position is (lat, lon), or else where the officer's camera last was.

    Records a command per camera in the caller's transaction, audited once per arming, and queues
    their publication for after the commit. Returns the commands made now: none for an arming already
    acted on, or one older than ``record_seen_within_s``."""
    if source not in ARMING_SOURCES:
        raise ValueError(f"source must be one of {', '.join(ARMING_SOURCES)}, not {source!r}")
    camera = _serial(camera_serial) if camera_serial else None
    taser = _serial(taser_serial) if taser_serial else None
    reported_by = camera or taser
    if reported_by is None:
        raise ValueError("an arming is reported by a camera or a Taser")
    now = now or clock.now()
    at = armed_at.astimezone(UTC)
    seen_within = _seen_within(db)
    if at < now - seen_within:
        return []
    seen_since = at - seen_within
    own = own_cameras(db, camera_serial=camera, taser_serial=taser, at=at)
    if lat is None or lon is None:
        lat, lon = _position_of(db, own, seen_since) or (None, None)
    radius_m = setting(db, "record_radius_m")
    done = set(
        db.scalars(
            select(RecordCommand.camera_serial).where(
                RecordCommand.reported_by == reported_by, RecordCommand.armed_at == at
            )
        )
    )
    made = []
    for choice in choose_cameras(db, own=own, lat=lat, lon=lon, radius_m=radius_m, seen_since=seen_since):
        if choice.serial in done:
            continue
        command = RecordCommand(
            source=source,
            reported_by=reported_by,
            taser_serial=taser,
            armed_at=at,
            lat=lat,
            lon=lon,
            camera_serial=choice.serial,
            reason=choice.reason,
            distance_m=choice.distance_m,
            radius_m=radius_m,
            commanded_at=now,
        )
        try:
            with db.begin_nested():
                db.add(command)
                db.flush()
        except IntegrityError:
            continue  # made at the same moment by another worker: the unique index kept one
        made.append(command)
    if made:
        audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.TASER_RECORD_COMMANDED,
            target=Target("device", reported_by),
            details={
                "source": source,
                "taser": taser,
                "armed_at": at.isoformat(),
                "lat": lat,
                "lon": lon,
                "radius_m": radius_m,
                "cameras": {c.camera_serial: c.reason for c in made},
            },
        )
        ids = [c.id for c in made]
        enqueue(db, SEND_TASK, {"ids": ids}, dedupe_key=f"{SEND_TASK}:{ids[0]}")
    return made


def record_message(command: RecordCommand) -> dict[str, object]:
    """What the camera is told: record, because a Taser was armed, and which command this is."""
    return {
        "command": "record",
        "reason": "taser_armed",
        "command_id": command.id,
        "armed_at": command.armed_at.isoformat(),
        "reported_by": command.reported_by,
    }


def send_record_commands(
    factory: sessionmaker[Session], commands: live.CameraCommands, ids: Sequence[int]
) -> None:
    """Publish the commands ``ids`` not yet sent, each to its camera, and record when each was sent or
    why it was not. No session is held while the broker is asked; a command whose arming has grown
    older than ``record_seen_within_s`` meanwhile is not sent, and says so."""
    with transaction(factory) as db:
        now = clock.now()
        late = now - _seen_within(db)
        pending = list(
            db.scalars(
                select(RecordCommand)
                .where(
                    RecordCommand.id.in_(ids),
                    RecordCommand.sent_at.is_(None),
                    RecordCommand.failure.is_(None),
                )
                .order_by(RecordCommand.id)
            )
        )
        for command in pending:
            if command.armed_at < late:
                command.failure = "not sent: the arming was too long ago by the time it could be"
        to_send = [(c.id, c.camera_serial, record_message(c)) for c in pending if c.failure is None]
    outcomes: dict[int, str | None] = {}
    for command_id, serial, message in to_send:
        outcomes[command_id] = commands.send(serial, message)
    with transaction(factory) as db:
        sent_at = clock.now()
        for command_id, failure in outcomes.items():
            sent = db.get(RecordCommand, command_id)
            if sent is None:
                continue
            if failure is None:
                sent.sent_at = sent_at
            else:
                sent.failure = failure[:FAILURE_LENGTH]


def unsent_command_ids(db: Session, *, now: datetime | None = None) -> list[int]:
    """The commands neither sent nor given up on whose arming is still recent enough to act on."""
    since = (now or clock.now()) - _seen_within(db)
    return list(
        db.scalars(
            select(RecordCommand.id)
            .where(
                RecordCommand.sent_at.is_(None),
                RecordCommand.failure.is_(None),
                RecordCommand.armed_at >= since,
            )
            .order_by(RecordCommand.id)
        )
    )


@dataclass(frozen=True)
class RecordCommandFilter:
    """Which commands to list: armed from ``since`` to before ``until``, and with ``serial`` a device
    that reported the arming, was named by it or was told to record."""

    since: datetime | None = None
    until: datetime | None = None
    serial: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.since is not None:
            where.append(RecordCommand.armed_at >= self.since.astimezone(UTC))
        if self.until is not None:
            where.append(RecordCommand.armed_at < self.until.astimezone(UTC))
        if self.serial:
            serial = _serial(self.serial)
            where.append(
                or_(
                    RecordCommand.reported_by == serial,
                    RecordCommand.taser_serial == serial,
                    RecordCommand.camera_serial == serial,
                )
            )
        return where


def list_record_commands(
    db: Session, *, where: RecordCommandFilter, limit: int, offset: int
) -> tuple[list[RecordCommand], int]:
    """Cameras told to record because a Taser was armed, newest arming first, and how many match.
    The route's permission decides who reads them: no command is any one officer's record."""
    clauses = where.clauses()
    total = db.scalar(select(func.count()).select_from(RecordCommand).where(*clauses)) or 0
    rows = db.scalars(
        select(RecordCommand)
        .where(*clauses)
        .order_by(RecordCommand.armed_at.desc(), RecordCommand.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
