"""Automatic recording over JSON: which cameras an armed Taser told to record, for supervisors and
professional standards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from openbwv.db import Db
from openbwv.errors import API_ERRORS
from openbwv.paging import Page, Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import recording
from openbwv.taser.models import SERIAL_LENGTH
from openbwv.taser.schemas import RecordCommandOut

router = APIRouter(prefix="/api/v1/taser", tags=["taser"], responses=API_ERRORS)


@router.get("/record-commands", response_model=Page[RecordCommandOut])
def list_record_commands(
    db: Db,
    paging: Paging,
    since: Annotated[
        AwareDatetime | None, Query(description="Armed at or after this time, with its zone.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Armed before this time, with its zone.")
    ] = None,
    serial: Annotated[
        str | None,
        Query(
            max_length=SERIAL_LENGTH,
            description="A Taser or camera: commands of armings it reported or named, or sent to it.",
        ),
    ] = None,
    actor: Actor = Require(Permission.TASER_RECORD_COMMAND_READ),
) -> Page[RecordCommandOut]:
    """Cameras told to record because a Taser was armed, newest arming first: why each was chosen,
    how far away it was and whether the message was sent."""
    where = recording.RecordCommandFilter(since=since, until=until, serial=serial)
    rows, total = recording.list_record_commands(db, where=where, limit=paging.limit, offset=paging.offset)
    return Page(
        items=[RecordCommandOut.model_validate(row) for row in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
