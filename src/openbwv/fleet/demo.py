"""The demo force's fleet: cameras for most response officers (issued three months ago, so the issue
history covers the demo footage), a pool and a dock per station with a shift's check-out of each pool
camera most days of the last two months, Tasers for a share of constables, some authorities about to
lapse and one lapsed with a Taser out.

Idempotent: when the first demo camera exists, the fleet has been seeded and nothing is added.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from openbwv import clock, people
from openbwv.fleet import devices, issues, rollout, training
from openbwv.policy import SYSTEM

# Personal cameras were issued this many days before the seeding; the demo footage covers less.
CAMERAS_ISSUED_DAYS_AGO = 90
# Each station's first pool camera is checked out for a day shift on most days of the last POOL_DAYS
# (more would slow the seeding: each check-out and return is a few dozen statements).
POOL_DAYS = 60
POOL_SHIFT = (time(7, 0), timedelta(hours=8))
POOL_USE = 0.9


def seed_fleet(db: Session, collars: list[str], *, today: date | None = None) -> None:
    """Seed the demo fleet once for the demo officers ``collars``."""
    if devices.get_device(db, "DEMO-CAM-0001") is not None:
        return
    today = today or clock.today()
    rng = random.Random(2019)
    officers = [o for o in (people.get_officer(db, c) for c in collars) if o is not None]
    stations = sorted({o.unit.station for o in officers if o.unit.station})
    camera_count = 0
    issued_at = datetime.combine(today - timedelta(days=CAMERAS_ISSUED_DAYS_AGO), time(7, 0), tzinfo=UTC)
    pool_users: dict[str, list[str]] = {}
    for station in stations:
        code = station[:4].upper()
        devices.create_device(db, SYSTEM, kind="dock", serial=f"DEMO-DOCK-{code}", model="Axon Dock 8", station=station, slots=8, online=True)  # fmt: skip
        for n in range(3):
            devices.create_device(db, SYSTEM, kind="camera", serial=f"DEMO-POOL-{code}-{n + 1}", model="Axon Body 3", station=station, pooled=True)  # fmt: skip
    for officer in officers:
        if officer.unit.kind not in ("response", "neighbourhood", "traffic", "tsg") or rng.random() > 0.85:
            continue
        training.record_pass(db, SYSTEM, collar_number=officer.collar_number, course="bwv_user", passed_on=issued_at.date() - timedelta(days=rng.randint(1, 600)), trainer="Force training school")  # fmt: skip
        if officer.unit.kind != "response":
            pool_users.setdefault(officer.unit.station or "", []).append(officer.collar_number)
            continue
        camera_count += 1
        serial = f"DEMO-CAM-{camera_count:04d}"
        devices.create_device(db, SYSTEM, kind="camera", serial=serial, model="Axon Body 3", firmware="1.24", station=officer.unit.station)  # fmt: skip
        issues.issue_device(
            db,
            SYSTEM,
            device_serial=serial,
            collar_number=officer.collar_number,
            kind="personal",
            now=issued_at,
        )
    _seed_pool_shifts(db, stations, pool_users, today=today, rng=rng)
    constables = [o for o in officers if o.rank_code == "constable"]
    carriers = constables[::4]
    year_ago = training.add_months(today, -12)
    for n, officer in enumerate(carriers):
        if n == 0:
            passed_on = year_ago - timedelta(days=9)  # lapsed nine days ago, Taser still out
        elif n <= 4:
            passed_on = year_ago + timedelta(days=3 + 5 * n)  # lapses within 30 days
        else:
            passed_on = today - timedelta(days=rng.randint(20, 300))
        training.add_volunteer(db, SYSTEM, collar_number=officer.collar_number, volunteered_on=passed_on)
        training.record_pass(db, SYSTEM, collar_number=officer.collar_number, course="taser_initial", passed_on=passed_on, trainer="Taser training unit")  # fmt: skip
        serial = f"DEMO-X2-{n + 1:04d}"
        devices.create_device(
            db, SYSTEM, kind="taser", serial=serial, model="X2", station=officer.unit.station
        )
        for bay in (1, 2):
            devices.load_cartridge(db, SYSTEM, taser_serial=serial, serial=f"{serial}-C{bay}", lot="LOT-2026-07", expires_on=today + timedelta(days=400), bay=bay, today=passed_on)  # fmt: skip
        issued_at = datetime.combine(passed_on + timedelta(days=1), time(7, 0), tzinfo=UTC)
        issues.issue_device(db, SYSTEM, device_serial=serial, collar_number=officer.collar_number, kind="personal", now=issued_at)  # fmt: skip
    training.set_eligibility(db, SYSTEM, authority="taser", rank="sergeant", unit=None, eligible=False, effective_from=today.replace(month=4, day=1), reason="STRA: the annual refresher is not funded for sergeants.")  # fmt: skip
    for phase, kinds, offset in (
        ("Phase 1", ("response",), -120),
        ("Phase 2", ("neighbourhood", "traffic", "tsg"), 30),
    ):
        for unit in people.list_units(db):
            if unit.kind in kinds:
                rollout.create_phase(db, SYSTEM, name=phase, unit=unit.code, target_cameras=25, starts_on=today + timedelta(days=offset), ends_on=today + timedelta(days=offset + 90))  # fmt: skip


def _seed_pool_shifts(
    db: Session, stations: list[str], users: dict[str, list[str]], *, today: date, rng: random.Random
) -> None:
    """Check each station's first pool camera out to one of its trained officers for a day shift on most
    of the last ``POOL_DAYS`` days, and back in at the shift's end (all before today)."""
    start, length = POOL_SHIFT
    for days_ago in range(POOL_DAYS, 0, -1):
        shift = datetime.combine(today - timedelta(days=days_ago), start, tzinfo=UTC)
        for station in stations:
            candidates = users.get(station, [])
            if not candidates or rng.random() > POOL_USE:
                continue
            serial = f"DEMO-POOL-{station[:4].upper()}-1"
            issue = issues.issue_device(db, SYSTEM, device_serial=serial, collar_number=rng.choice(candidates), kind="pooled", now=shift)  # fmt: skip
            issues.return_issue(db, SYSTEM, issue_id=issue.id, now=shift + length)
