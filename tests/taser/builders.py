"""Officers holding Tasers, dated from the test's clock, and deployment reports about them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from openbwv import clock, fleet
from openbwv.fleet import devices, training
from openbwv.footage import Clip, index_place
from openbwv.live.models import PositionRecord
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM
from openbwv.taser.schemas import DeploymentIn
from tests.builders import make_device, make_officer, make_pass


def make_taser_holder(
    db: Session,
    *,
    collar: str,
    passed_on: date | None = None,
    issued_at: datetime | None = None,
    model: str = "X2",
    bays: int = 2,
) -> Officer:
    """An officer who passed the Taser course on ``passed_on`` (default: 30 days ago), volunteers,
    and holds Taser ``TS-<collar>`` since ``issued_at`` (default: 10 days ago), every bay loaded
    with a cartridge ``C<collar>-<bay>``."""
    now = clock.now()
    passed_on = passed_on or (now - timedelta(days=30)).date()
    issued_at = issued_at or now - timedelta(days=10)
    officer = make_officer(db, collar=collar)
    make_pass(db, officer, "taser_initial", passed_on)
    training.add_volunteer(db, SYSTEM, collar_number=collar, volunteered_on=passed_on)
    serial = f"TS-{collar}"
    make_device(db, kind="taser", serial=serial, model=model)
    for bay in range(1, bays + 1):
        devices.load_cartridge(
            db,
            SYSTEM,
            taser_serial=serial,
            serial=f"C{collar}-{bay}",
            lot="LOT-1",
            expires_on=now.date() + timedelta(days=365),
            bay=bay,
            today=min(passed_on, issued_at.date()),
        )
    fleet.issue_device(db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=issued_at)
    return officer


def report(collar: str, **overrides: Any) -> dict[str, Any]:
    """The JSON of a report of officer ``collar`` firing their Taser (one cartridge, bay 1) an hour ago."""
    body: dict[str, Any] = {
        "collar_number": collar,
        "taser_serial": f"TS-{collar}",
        "occurred_at": (clock.now() - timedelta(hours=1)).isoformat(),
        "lat": 52.4862,
        "lon": -1.8904,
        "location_type": "street",
        "incident_number": "INC-0001",
        "levels": ["drawn", "red_dot", "fired"],
        "cartridges_discharged": 1,
        "cartridge_bays": [1],
        "reasons": ["protect_self", "effect_arrest"],
        "impact_factors": ["possession_of_weapon"],
        "subject_age_band": "18_34",
        "subject_gender": "male",
        "subject_ethnicity": "white",
        "subject_self_defined_ethnicity": "W1",
        "outcome": "arrested",
        "officer_assaulted": True,
    }
    return {**body, **overrides}


def report_in(collar: str, **overrides: Any) -> DeploymentIn:
    return DeploymentIn.model_validate(report(collar, **overrides))


def make_clip(
    db: Session,
    *,
    camera: str,
    start: datetime,
    minutes: float,
    officer_id: int | None = None,
    track: list[tuple[float, float]] | None = None,
    probed_at: datetime | None = None,
) -> int:
    """A ready clip of ``camera`` running ``minutes`` from ``start``, placed by its ``track`` (one fix
    a second), probed at ``probed_at`` (default: ``start``)."""
    sha = uuid.uuid4().hex * 2
    clip = Clip(
        sha256=sha,
        size=1000,
        storage_key=f"clips/{sha}",
        camera_serial=camera,
        officer_id=officer_id,
        recorded_at=start,
        duration_s=minutes * 60,
        ingest_state="ready",
        gps_track=[[n, lat, lon] for n, (lat, lon) in enumerate(track or [])] or None,
        probed_at=probed_at or start,
    )
    db.add(clip)
    db.flush()
    index_place(db, clip)
    return clip.id


def make_position(db: Session, *, camera: str, at: datetime, lat: float, lon: float) -> None:
    """A reading of ``camera`` in the live position history."""
    db.add(
        PositionRecord(
            serial=camera,
            ts=at,
            lat=lat,
            lon=lon,
            accuracy_m=5.0,
            recording=True,
            battery_pct=80.0,
            storage_pct=20.0,
        )
    )
    db.flush()
