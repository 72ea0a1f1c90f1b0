"""Taser device logs over JSON: import a handle's event log, list the entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime
from starlette.datastructures import UploadFile

from openbwv.db import Db
from openbwv.errors import API_ERRORS, InvalidInput, TooLarge
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser.device_logs import service
from openbwv.taser.device_logs.parse import FORMATS
from openbwv.taser.device_logs.schemas import DeviceLogEntryOut, DeviceLogImportOut
from openbwv.taser.models import FILE_NAME_LENGTH, SERIAL_LENGTH

router = APIRouter(prefix="/api/v1/taser/device-logs", tags=["taser"], responses=API_ERRORS)
MAX_LOG_BYTES = 16 * 1024 * 1024
"""A year of one handle's events is well under 1 MiB; a force's bulk export fits many times over."""
_CONTENT_TYPES = {"text/csv": "csv", "application/csv": "csv", "application/json": "json"}


@dataclass(frozen=True)
class DeviceLogFile:
    text: str
    log_format: str
    file_name: str | None


def _format_of(content_type: str, file_name: str | None, given: str | None) -> str:
    if given:
        if given.lower() not in FORMATS:
            raise InvalidInput("format", f"the format must be csv or json, not {given!r}")
        return given.lower()
    by_type = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if by_type:
        return by_type
    suffix = (file_name or "").rsplit(".", 1)[-1].lower()
    if suffix in FORMATS:
        return suffix
    raise InvalidInput(
        "format", "say whether the log is CSV or JSON: send text/csv or application/json, or format=csv|json"
    )


async def _body(request: Request) -> bytes:
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_LOG_BYTES:
            raise TooLarge(f"The device log is larger than {MAX_LOG_BYTES // (1024 * 1024)} MiB; split it.")
    return bytes(received)


async def device_log_file(
    request: Request,
    log_format: Annotated[
        str | None, Query(alias="format", max_length=10, description="csv or json.")
    ] = None,
    file_name: Annotated[str | None, Query(max_length=FILE_NAME_LENGTH)] = None,
) -> DeviceLogFile:
    """The log from a text/csv or application/json body, or a multipart upload's ``file`` field
    (with an optional ``format`` field); bounded by ``MAX_LOG_BYTES``."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", "attach the log as the form field 'file'")
        raw = await upload.read(MAX_LOG_BYTES + 1)
        if len(raw) > MAX_LOG_BYTES:
            raise TooLarge(f"The device log is larger than {MAX_LOG_BYTES // (1024 * 1024)} MiB; split it.")
        field = form.get("format")
        given = log_format or (field if isinstance(field, str) else None)
        file_name = file_name or upload.filename
        found = _format_of(upload.content_type or "", file_name, given)
    else:
        raw = await _body(request)
        found = _format_of(content_type, file_name, log_format)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("file", "the log must be UTF-8 text") from exc
    return DeviceLogFile(text=text, log_format=found, file_name=file_name)


LogFile = Annotated[DeviceLogFile, Depends(device_log_file)]


def _out(report: service.ImportReport) -> DeviceLogImportOut:
    return DeviceLogImportOut.model_validate(report, from_attributes=True)


@router.post("", response_model=DeviceLogImportOut)
def import_device_log(
    # The permission is checked first, so that the file is read only from a caller allowed to send it.
    actor: Annotated[Actor, Require(Permission.TASER_DEVICE_LOG_IMPORT)],
    log: LogFile,
    db: Db,
    dry_run: Annotated[bool, Query(description="Check every row and store nothing.")] = False,
    skip_bad: Annotated[bool, Query(description="Store the good rows of a file with bad ones.")] = False,
) -> DeviceLogImportOut:
    """Import a Taser handle's event log (CSV or JSON; see the README): 422 naming each bad row or
    a Taser not in the fleet; entries already stored are counted, not stored twice."""
    report = service.import_device_log(
        db,
        actor,
        content=log.text,
        log_format=log.log_format,
        file_name=log.file_name,
        dry_run=dry_run,
        skip_bad=skip_bad,
    )
    return _out(report)


@router.get("/entries", response_model=Page[DeviceLogEntryOut])
def list_entries(
    db: Db,
    paging: Paging,
    taser_serial: Annotated[str | None, Query(max_length=SERIAL_LENGTH)] = None,
    since: Annotated[AwareDatetime | None, Query(description="At or after this time, with its zone.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this time, with its zone.")] = None,
    actor: Actor = Require(Permission.TASER_DEVICE_LOG_READ),
) -> Page[DeviceLogEntryOut]:
    """Entries of the Tasers' own logs, oldest first, by Taser and time, with reconciliation's verdict."""
    where = service.EntryFilter(taser_serial=taser_serial, since=since, until=until)
    rows, total = service.list_entries(db, where=where, limit=paging.limit, offset=paging.offset)
    return Page(
        items=[DeviceLogEntryOut.model_validate(e) for e in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
