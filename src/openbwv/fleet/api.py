from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from openbwv import clock
from openbwv.db import Db
from openbwv.errors import API_ERRORS, InvalidInput, NotFound
from openbwv.fleet import condition, devices, imports, issues, rollout, stations, telemetry
from openbwv.fleet.access import get_kit_owner_for
from openbwv.fleet.models import Device, Issue, Movement, Station
from openbwv.fleet.schemas import (
    MAX_BAYS,
    CartridgeIn,
    CartridgeOut,
    DeviceDetailOut,
    DeviceIn,
    DeviceOut,
    DischargeIn,
    HealthIn,
    ImportReportOut,
    IssueIn,
    IssueOut,
    KitOut,
    MovementOut,
    OnlineIn,
    PhaseIn,
    PhaseProgressOut,
    ReturnIn,
    StateIn,
    StationOut,
    StationPositionIn,
    TelemetryIn,
)
from openbwv.inputs import RecordId
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, DeviceScope, Permission, Require, RequireDevice

router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=API_ERRORS)


def issue_out(db: Db, issue: Issue, device: Device, collars: dict[int, str] | None = None) -> IssueOut:
    if collars is None:
        collars = devices.officer_collars(db, [issue.officer_id])
    return IssueOut(
        id=issue.id,
        device_serial=device.serial,
        device_kind=device.kind,
        collar_number=collars.get(issue.officer_id, ""),
        kind=issue.kind,
        issued_at=issue.issued_at,
        issued_by=issue.issued_by,
        due_back_at=issue.due_back_at,
        station=issue.station,
        returned_at=issue.returned_at,
        returned_by=issue.returned_by,
        overdue=(
            issue.returned_at is None and issue.due_back_at is not None and issue.due_back_at < clock.now()
        ),
    )


def movements_out(db: Db, rows: list[Movement]) -> list[MovementOut]:
    names = devices.officer_names(db, [m.officer_id for m in rows])
    return [
        MovementOut(
            occurred_at=m.occurred_at,
            action=m.action,
            from_state=m.from_state,
            to_state=m.to_state,
            officer=names.get(m.officer_id) if m.officer_id else None,
            issue_id=m.issue_id,
            actor=m.actor_username,
            note=m.note,
        )
        for m in rows
    ]


async def csv_text(request: Request) -> str:
    """The CSV from a text/csv body or a multipart upload's ``file`` field."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("file", "attach the CSV as the form field 'file'")
        raw = await upload.read()
    else:
        raw = await request.body()
    if len(raw) > imports.MAX_CSV_BYTES:
        raise InvalidInput("file", "the file is larger than 64 MiB; split it")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("file", "the file must be UTF-8 text") from exc


CsvText = Annotated[str, Depends(csv_text)]


@router.post("/devices", response_model=DeviceOut, status_code=201)
def create_device(body: DeviceIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)) -> Device:
    """Register a camera, Taser or dock received into stock (or a camera into a station's pool)."""
    return devices.create_device(db, actor, **body.model_dump())


@router.get("/devices", response_model=Page[DeviceOut])
def list_devices(
    db: Db,
    paging: Paging,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    model: Annotated[str | None, Query(max_length=80)] = None,
    station: Annotated[str | None, Query(max_length=120)] = None,
    q: Annotated[str | None, Query(max_length=60, description="Serial or model fragment.")] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> Page[DeviceOut]:
    """Devices, filtered by kind, state, model, station and serial."""
    where = devices.DeviceFilter(kind=kind, state=state, model=model, station=station, search=q)
    rows, total = devices.list_devices(db, where=where, limit=paging.limit, offset=paging.offset)
    return Page(
        items=[DeviceOut.model_validate(d) for d in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


def _device(db: Db, serial: str) -> Device:
    device = devices.get_device(db, serial)
    if device is None:
        raise NotFound("device")
    return device


@router.get("/devices/{serial}", response_model=DeviceDetailOut)
def get_device(serial: str, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_READ)) -> DeviceDetailOut:
    """One device, with the cartridges loaded in a Taser."""
    device = _device(db, serial)
    out = DeviceDetailOut.model_validate(device)
    out.cartridges = [CartridgeOut.model_validate(c) for c in devices.cartridges_of(db, device.id)]
    return out


@router.get("/devices/{serial}/history", response_model=list[MovementOut])
def device_history(
    serial: str, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_READ)
) -> list[MovementOut]:
    """Every movement of a device, oldest first."""
    return movements_out(db, devices.device_history(db, _device(db, serial)))


@router.post("/devices/{serial}/state", response_model=DeviceOut)
def change_state(
    serial: str, body: StateIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Device:
    """Send a device to repair, report it lost or stolen (with a note), retire it, or put it back into
    stock or its station's pool."""
    return devices.change_state(db, actor, serial=serial, state=body.state, note=body.note)


@router.post("/devices/{serial}/cartridges", response_model=CartridgeOut, status_code=201)
def load_cartridge(
    serial: str, body: CartridgeIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> CartridgeOut:
    """Load a cartridge into a free bay of a Taser."""
    cartridge = devices.load_cartridge(
        db,
        actor,
        taser_serial=serial,
        serial=body.serial,
        lot=body.lot,
        expires_on=body.expires_on,
        bay=body.bay,
    )
    return CartridgeOut.model_validate(cartridge)


@router.post("/devices/{serial}/health", response_model=DeviceOut)
def report_health(
    serial: str, body: HealthIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Device:
    """Report a camera's battery and storage health (0-100); each change joins the device's history."""
    return condition.report_health(
        db, actor, serial=serial, battery_health=body.battery_health, storage_health=body.storage_health
    )


@router.post("/devices/{serial}/online", response_model=DeviceOut)
def set_online(
    serial: str, body: OnlineIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Device:
    """Report that a dock went online or offline; each change joins the device's history."""
    return condition.set_online(db, actor, serial=serial, online=body.online)


@router.post("/device/telemetry", response_model=DeviceOut, tags=["devices"])
def device_telemetry(
    body: TelemetryIn, db: Db, actor: Actor = RequireDevice(DeviceScope.TELEMETRY)
) -> Device:
    """A camera reports its battery and storage health, a dock whether it is online; signed in with
    the device's own credential. Each change joins the device's history."""
    return telemetry.receive_telemetry(
        db, actor, battery_health=body.battery_health, storage_health=body.storage_health, online=body.online
    )


@router.post("/devices/{serial}/cartridges/{bay}/discharge", response_model=CartridgeOut)
def discharge_cartridge(
    serial: str,
    bay: Annotated[int, Path(ge=1, le=MAX_BAYS)],
    db: Db,
    body: DischargeIn | None = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_WRITE),
) -> CartridgeOut:
    """Mark the cartridge in a bay of a Taser discharged; the Taser is not issued until it is replaced."""
    at = body.discharged_at if body else None
    if at is not None and at.tzinfo is None:
        raise InvalidInput("discharged_at", "give the time with its zone, e.g. 2026-11-26T20:00:00Z")
    cartridge = condition.discharge_cartridge(
        db,
        actor,
        taser_serial=serial,
        bay=bay,
        discharged_at=at.astimezone(UTC) if at else None,
        note=body.note if body else None,
    )
    return CartridgeOut.model_validate(cartridge)


@router.post("/issues", response_model=IssueOut, status_code=201)
def issue_device(body: IssueIn, db: Db, actor: Actor = Require(Permission.FLEET_ISSUE_WRITE)) -> IssueOut:
    """Issue a device to an officer; a refused rule answers 409 with the rule and a sentence why."""
    due = body.due_back_at.astimezone(UTC) if body.due_back_at and body.due_back_at.tzinfo else None
    if body.due_back_at is not None and due is None:
        raise InvalidInput("due_back_at", "give the time with its zone, e.g. 2026-11-26T20:00:00Z")
    issue = issues.issue_device(
        db,
        actor,
        device_serial=body.device_serial,
        collar_number=body.collar_number,
        kind=body.kind,
        due_back_at=due,
    )
    device = db.get(Device, issue.device_id)
    assert device is not None
    return issue_out(db, issue, device)


@router.get("/issues", response_model=list[IssueOut])
def list_open_issues(
    db: Db,
    overdue: bool = False,
    kind: Annotated[str | None, Query(max_length=10, description="Device kind.")] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> list[IssueOut]:
    """Devices out now; ``overdue=true`` lists only pooled and tour issues past their due time."""
    rows = issues.list_open_issues(db, overdue_only=overdue, device_kind=kind)
    collars = devices.officer_collars(db, [r.issue.officer_id for r in rows])
    return [issue_out(db, r.issue, r.device, collars) for r in rows]


@router.post("/issues/{issue_id}/return", response_model=IssueOut)
def return_issue(
    issue_id: RecordId,
    db: Db,
    body: ReturnIn | None = None,
    actor: Actor = Require(Permission.FLEET_ISSUE_WRITE),
) -> IssueOut:
    """Take a device back from an officer."""
    issue = issues.return_issue(db, actor, issue_id=issue_id, note=body.note if body else None)
    device = db.get(Device, issue.device_id)
    assert device is not None
    return issue_out(db, issue, device)


@router.get("/officers/{collar_number}/kit", response_model=KitOut)
def officer_kit(collar_number: str, db: Db, actor: Actor = Require(Permission.SELF_READ)) -> KitOut:
    """What an officer holds now and their kit history (staff with fleet read, or the officer)."""
    officer = get_kit_owner_for(db, actor, collar_number)
    if officer is None:
        raise NotFound("officer")
    collars = {officer.id: officer.collar_number}
    history = devices.officer_history(db, officer.id)
    return KitOut(
        collar_number=officer.collar_number,
        holding=[issue_out(db, i, d, collars) for i, d in issues.officer_kit(db, officer.id)],
        history=movements_out(db, [m for m, _ in history]),
    )


def _report(report: imports.ImportReport) -> ImportReportOut:
    return ImportReportOut.model_validate(report, from_attributes=True)


@router.post("/imports/officers", response_model=ImportReportOut)
def import_officers(
    # The permission is checked first, so that the file is read only from a caller allowed to send it.
    actor: Annotated[Actor, Require(Permission.FLEET_IMPORT_WRITE)],
    text: CsvText,
    db: Db,
    dry_run: bool = False,
    skip_bad: bool = False,
) -> ImportReportOut:
    """Import officers from the HR export (CSV: collar_number, name, rank, unit); bad rows are named by line."""
    return _report(imports.import_officers(db, actor, text=text, dry_run=dry_run, skip_bad=skip_bad))


@router.post("/imports/devices", response_model=ImportReportOut)
def import_devices(
    # The permission is checked first, so that the file is read only from a caller allowed to send it.
    actor: Annotated[Actor, Require(Permission.FLEET_IMPORT_WRITE)],
    text: CsvText,
    db: Db,
    dry_run: bool = False,
    skip_bad: bool = False,
) -> ImportReportOut:
    """Import devices from a delivery note (CSV: kind, serial, model[, firmware, station, pooled])."""
    return _report(imports.import_devices(db, actor, text=text, dry_run=dry_run, skip_bad=skip_bad))


@router.get("/exports/officers.csv", response_class=Response)
def export_officers(db: Db, actor: Actor = Require(Permission.PEOPLE_OFFICER_READ)) -> Response:
    """Every officer as CSV, in the import's columns."""
    return Response(imports.export_officers(db, actor), media_type="text/csv")


@router.get("/exports/devices.csv", response_class=Response)
def export_devices(
    db: Db,
    q: Annotated[str | None, Query(max_length=60)] = None,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    model: Annotated[str | None, Query(max_length=80)] = None,
    station: Annotated[str | None, Query(max_length=120)] = None,
    actor: Actor = Require(Permission.FLEET_DEVICE_READ),
) -> Response:
    """Devices as CSV, in the import's columns plus their state: every device, or those the fleet
    list's filters (the same parameters) find."""
    where = devices.DeviceFilter(
        kind=kind or None, state=state or None, model=model or None, station=station or None, search=q or None
    )
    return Response(imports.export_devices(db, actor, where=where), media_type="text/csv")


@router.post("/rollout/phases", response_model=PhaseProgressOut, status_code=201)
def create_phase(
    body: PhaseIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> PhaseProgressOut:
    """Add a roll-out phase for a unit with its target and dates."""
    phase = rollout.create_phase(db, actor, **body.model_dump())
    return next(
        PhaseProgressOut.model_validate(p, from_attributes=True)
        for p in rollout.rollout_progress(db)
        if p.id == phase.id
    )


@router.get("/rollout/progress", response_model=list[PhaseProgressOut])
def rollout_progress(db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_READ)) -> list[PhaseProgressOut]:
    """Every roll-out phase: cameras issued against target, officers trained."""
    return [PhaseProgressOut.model_validate(p, from_attributes=True) for p in rollout.rollout_progress(db)]


StationName = Annotated[str, Path(min_length=1, max_length=stations.STATION_NAME_LENGTH)]


@router.put("/fleet/stations/{name}", response_model=StationOut)
def set_station_position(
    name: StationName, body: StationPositionIn, db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_WRITE)
) -> Station:
    """Record where a station stands; footage without a track is placed at its camera's station."""
    return stations.set_station_position(
        db, actor, name=name, latitude=body.latitude, longitude=body.longitude
    )


@router.get("/fleet/stations", response_model=list[StationOut])
def list_station_positions(db: Db, actor: Actor = Require(Permission.FLEET_DEVICE_READ)) -> list[Station]:
    """Every station with a position, by name."""
    return stations.list_station_positions(db)
