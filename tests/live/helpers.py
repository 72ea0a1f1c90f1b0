"""Payloads and set-up shared by the live tests."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet
from openbwv.db import transaction
from openbwv.fleet import credentials
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass, make_unit

TELEMETRY = "/api/v1/live/telemetry"
CAMERAS = "/api/v1/live/cameras"
MAX_AGE = timedelta(minutes=5)
# Birmingham, from the domain notes' places for the demo.
BIRMINGHAM = (52.4862, -1.8904)


def payload(*, at: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A valid telemetry payload sent at ``at`` (default: the clock's now), with ``changes``."""
    body: dict[str, Any] = {
        "ts": (at or clock.now()).isoformat(),
        "lat": BIRMINGHAM[0],
        "lon": BIRMINGHAM[1],
        "accuracy_m": 5.0,
        "recording": False,
        "battery_pct": 80,
        "storage_pct": 40,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def encoded(**changes: Any) -> bytes:
    return json.dumps(payload(**changes)).encode()


def issued_camera(db: Session, *, serial: str, collar: str, unit_code: str = "RESP") -> None:
    """A camera issued to a trained officer of the unit ``unit_code``."""
    from openbwv import people

    unit = people.get_unit(db, unit_code) or make_unit(db, code=unit_code)
    officer = make_officer(db, collar=collar, unit=unit)
    make_pass(db, officer, "bwv_user", date(2026, 1, 10))
    make_device(db, serial=serial, now=clock.now() - timedelta(days=1))
    fleet.issue_device(db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal")


def reporting_camera(
    factory: sessionmaker[Session], *, serial: str, collar: str, unit_code: str = "RESP"
) -> dict[str, str]:
    """A camera issued as :func:`issued_camera` issues it, and bearer headers for its own credential."""
    with transaction(factory) as db:
        issued_camera(db, serial=serial, collar=collar, unit_code=unit_code)
        _, raw = credentials.issue_credential(db, SYSTEM, serial=serial)
    return {"Authorization": f"Bearer {raw}"}
