"""The demo force's year of Taser: response constables carrying Tasers over the last 365 days (the
Taser course before the year, the annual refresher inside it), about 180 plausible uses filed
through the reporting rules at the time of each use, footage of most of them, supervisors' reviews
(most signed off, a few returned, one edited after sign-off), the exceptions professional standards
work through, a handle log of the Birmingham armoury's Taser to reconcile, and an illustrative
population table for rates per 1,000 people.

Everything goes through the services (``file_deployment``, ``review``, ``linking``, the device-log
import), each with ``now`` set to the moment it would have happened, so the rules hold as they did
then. Seeded random: every run with the same clock makes the same year.

Idempotent: once the first demo Taser of the year exists, nothing is added.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from openbwv import fleet, people
from openbwv.democam import CENTRES
from openbwv.fleet import devices, training
from openbwv.footage.demo import DemoRecording, seed_demo_recordings
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.storage import ObjectStore
from openbwv.taser import exceptions, linking, population, review
from openbwv.taser.device_logs.service import import_device_log
from openbwv.taser.figures_schemas import PopulationIn, PopulationRowIn
from openbwv.taser.models import Deployment
from openbwv.taser.schemas import DeploymentIn
from openbwv.taser.service import file_deployment

DEMO_YEAR_DAYS = 365
TASER_PREFIX = "DEMO-X2-Y"
ARMOURY_TASER = "DEMO-X2-ARMOURY"
ARMOURY_STATION = "Birmingham"
CARRIERS_PER_STATION = 5
TOUR_OFFICERS = 3
USES_PER_DAY = 0.5
"""About 180 uses a year: the scale of a force of a few hundred response officers."""
FOOTAGE_SHARE = 0.93
CLIP_SOURCE = "demo-taser"
CLIP_NUMBERS_FROM = 1_000_000
"""Far above the demo footage's numbers, so no two demo clips share bytes."""
ARMOURY_SHIFTS = 21
SHIFT = (time(7, 0), timedelta(hours=10))

# Highest level reached, and the levels on the way there (Home Office shares, roughly).
LEVEL_MIX: list[tuple[list[str], float]] = [
    (["drawn"], 0.22),
    (["drawn", "aimed"], 0.07),
    (["drawn", "red_dot"], 0.53),
    (["drawn", "red_dot", "arced"], 0.03),
    (["drawn", "drive_stun"], 0.02),
    (["drawn", "red_dot", "fired"], 0.13),
]
REASON_CHANCE = {
    "protect_self": 0.65,
    "protect_public": 0.45,
    "protect_other_officers": 0.45,
    "effect_arrest": 0.4,
    "prevent_offence": 0.2,
    "protect_subject": 0.1,
    "prevent_escape": 0.1,
    "method_of_entry": 0.02,
}
IMPACT_CHANCE = {
    "alcohol": 0.45,
    "possession_of_weapon": 0.4,
    "drugs": 0.3,
    "prior_knowledge": 0.25,
    "size_build": 0.2,
    "mental_health": 0.15,
    "crowd": 0.05,
    "acute_behavioural_disorder": 0.03,
}
AGE_MIX = {"11_17": 0.05, "18_34": 0.56, "35_49": 0.29, "50_64": 0.08, "65_plus": 0.02}
ETHNICITY_MIX = {
    "white": 0.55,
    "black": 0.19,
    "asian": 0.16,
    "mixed": 0.06,
    "other": 0.02,
    "not_stated": 0.02,
}
SELF_DEFINED = {"white": "W1", "black": "B2", "asian": "A1", "mixed": "M1", "other": "O9"}
LOCATION_MIX = {
    "street": 0.52,
    "dwelling": 0.3,
    "licensed_premises": 0.06,
    "vehicle": 0.05,
    "custody": 0.03,
    "hospital": 0.02,
    "other": 0.02,
}
OUTCOME_MIX = {
    "arrested": 0.8,
    "no_further_action": 0.07,
    "detained_mental_health": 0.08,
    "hospitalised": 0.02,
    "other": 0.03,
}
# Uses by hour of the day and day of the week (Monday first): evenings and weekends are busiest.
HOUR_WEIGHTS = [4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6, 7, 8, 8, 8, 7, 6]
WEEKDAY_WEIGHTS = [0.8, 0.8, 0.9, 1.0, 1.3, 1.5, 1.3]
RETURN_COMMENTS = (
    "Say what the subject did that made you draw: the reasons box names protect_self only.",
    "The place is the station's, not where it happened; correct the location.",
    "Add the incident log number from the control room, not the custody record's.",
    "Record whether the subject was checked by a paramedic after the drive stun.",
)
# West Midlands districts, rounded and shaped like Census 2021 shares; illustrative only.
POPULATION_SOURCE = "Illustrative demo figures shaped like Census 2021 (ONS); not the census"
POPULATION_YEAR = 2021
POPULATION: dict[str, tuple[int, dict[str, float]]] = {
    "Birmingham": (1_145_000, {"white": 0.49, "asian": 0.31, "black": 0.11, "mixed": 0.055, "other": 0.035}),
    "Coventry": (345_000, {"white": 0.66, "asian": 0.19, "black": 0.09, "mixed": 0.03, "other": 0.03}),
    "Dudley": (323_000, {"white": 0.85, "asian": 0.08, "black": 0.03, "mixed": 0.03, "other": 0.01}),
    "Sandwell": (341_000, {"white": 0.56, "asian": 0.25, "black": 0.11, "mixed": 0.04, "other": 0.04}),
    "Solihull": (216_000, {"white": 0.85, "asian": 0.08, "black": 0.03, "mixed": 0.03, "other": 0.01}),
    "Walsall": (284_000, {"white": 0.72, "asian": 0.19, "black": 0.045, "mixed": 0.03, "other": 0.015}),
    "Wolverhampton": (264_000, {"white": 0.59, "asian": 0.22, "black": 0.1, "mixed": 0.05, "other": 0.04}),
}


CORRECTOR = Actor(username="system:demo", roles=frozenset({Role.SUPERVISOR}))
"""Who puts right the reports of demo officers that have no login."""


@dataclass(frozen=True)
class Carrier:
    """A Taser officer of the demo: who, their camera, their Taser (None: tours from the armoury)."""

    officer: people.Officer
    camera: str
    taser: str | None


@dataclass
class _Use:
    carrier: Carrier
    taser: str
    at: datetime
    request: DeploymentIn
    footage: bool
    filed_after: timedelta
    log: list[tuple[datetime, str, int | None, float | None]] = field(default_factory=list)
    """The handle's entries for the use (armoury Taser only): time, event, bay, seconds."""


@dataclass(frozen=True)
class DemoTaser:
    """What the seeding made."""

    carriers: int
    reports: int
    clips: int
    exceptions: dict[str, int]


def _pick(mix: dict[str, float], rng: random.Random) -> str:
    return rng.choices(list(mix), list(mix.values()))[0]


def _some(chances: dict[str, float], rng: random.Random, *, at_least_one: bool) -> list[str]:
    chosen = [code for code, chance in chances.items() if rng.random() < chance]
    if not chosen and at_least_one:
        chosen = [max(chances, key=lambda code: chances[code])]
    return chosen


def _officer_actor(officer: people.Officer) -> Actor:
    return Actor(
        username=f"pc.{officer.collar_number}", roles=frozenset({Role.OFFICER}), officer_id=officer.id
    )


def _login_actor(db: Session, username: str, role: Role) -> Actor:
    """The demo login of ``role`` acting, or the system in that role when it is missing."""
    account = people.get_account(db, username)
    if account is None:
        return Actor(username=f"system:{username}", roles=frozenset({role}))
    return Actor(
        username=account.username, roles=frozenset({role}), user_id=account.id, officer_id=account.officer_id
    )


def _choose_carriers(
    db: Session, collars: list[str], *, exclude: set[int | None]
) -> tuple[list[Carrier], list[Carrier]]:
    """Response constables with a personal camera and no Taser: ``CARRIERS_PER_STATION`` at each
    station with their own Taser, and ``TOUR_OFFICERS`` at the armoury's station who draw its Taser."""
    chosen: dict[str, list[Carrier]] = {}
    tour: list[Carrier] = []
    for collar in collars:
        officer = people.get_officer(db, collar)
        if officer is None or officer.id in exclude or officer.rank_code != "constable":
            continue
        if officer.unit.kind != "response" or not officer.unit.station:
            continue
        kit = fleet.officer_kit(db, officer.id)
        cameras = [d.serial for i, d in kit if d.kind == "camera" and i.kind == "personal"]
        if not cameras or any(d.kind == "taser" for _, d in kit):
            continue
        station = officer.unit.station
        mine = chosen.setdefault(station, [])
        if any(c.officer.id == officer.id for c in mine + tour):
            continue
        if len(mine) < CARRIERS_PER_STATION:
            number = sum(map(len, chosen.values()))
            mine.append(Carrier(officer, cameras[0], f"{TASER_PREFIX}{number:03d}"))
        elif station == ARMOURY_STATION and len(tour) < TOUR_OFFICERS:
            tour.append(Carrier(officer, cameras[0], None))
    return [c for station in sorted(chosen) for c in chosen[station]], tour


def _train(db: Session, carrier: Carrier, *, year_start: date, today: date, rng: random.Random) -> date:
    """The initial course before the year and a refresher inside it, so authority holds all year."""
    collar = carrier.officer.collar_number
    initial = year_start - timedelta(days=rng.randint(10, 150))
    refresher = min(today, training.add_months(initial, 12) - timedelta(days=rng.randint(5, 30)))
    training.add_volunteer(db, SYSTEM, collar_number=collar, volunteered_on=initial)
    for course, passed_on in (("taser_initial", initial), ("taser_refresher", refresher)):
        training.record_pass(db, SYSTEM, collar_number=collar, course=course, passed_on=passed_on, trainer="Taser training unit", today=today)  # fmt: skip
    return initial


def _create_taser(db: Session, serial: str, station: str, *, loaded_on: date, expires_on: date) -> None:
    devices.create_device(db, SYSTEM, kind="taser", serial=serial, model="X2", station=station)
    for bay in (1, 2):
        _load(db, serial, bay, label="A", loaded_on=loaded_on, expires_on=expires_on)


def _load(db: Session, serial: str, bay: int, *, label: str, loaded_on: date, expires_on: date) -> None:
    devices.load_cartridge(db, SYSTEM, taser_serial=serial, serial=f"{serial}-{label}-B{bay}", lot="LOT-DEMO-X2", expires_on=expires_on, bay=bay, today=loaded_on)  # fmt: skip


def _moment(start: datetime, end: datetime, rng: random.Random) -> datetime:
    """A time between ``start`` and ``end``, evenings and weekends the likeliest."""
    while True:
        day = start.date() + timedelta(days=rng.randrange((end - start).days + 1))
        if rng.random() * max(WEEKDAY_WEIGHTS) > WEEKDAY_WEIGHTS[day.weekday()]:
            continue
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        at = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=UTC)
        if start <= at <= end:
            return at


def _request(
    carrier: Carrier, taser: str, at: datetime, levels: list[str], rng: random.Random
) -> DeploymentIn:
    """A plausible report of ``carrier``'s use reaching ``levels``, near their station."""
    lat, lon = CENTRES.get(carrier.officer.unit.station or "", CENTRES["Birmingham"])
    fired = "fired" in levels
    cartridges = 2 if fired and rng.random() < 0.12 else int(fired)
    ethnicity = _pick(ETHNICITY_MIX, rng)
    stun = "drive_stun" in levels
    subject_injured = fired or stun or rng.random() < 0.03
    return DeploymentIn(
        collar_number=carrier.officer.collar_number,
        taser_serial=taser,
        occurred_at=at,
        lat=round(lat + rng.uniform(-0.02, 0.02), 6),
        lon=round(lon + rng.uniform(-0.03, 0.03), 6),
        location_type=_pick(LOCATION_MIX, rng),
        incident_number=f"LOG {rng.randint(1, 2400):04d} {at:%d/%m/%y}",
        levels=levels,
        cartridges_discharged=cartridges,
        cartridge_bays=[1, 2][:cartridges],
        reasons=_some(REASON_CHANCE, rng, at_least_one=True),
        impact_factors=_some(IMPACT_CHANCE, rng, at_least_one=False),
        subject_age_band=_pick(AGE_MIX, rng),
        subject_gender="male" if rng.random() < 0.88 else "female",
        subject_ethnicity=ethnicity,
        subject_self_defined_ethnicity=SELF_DEFINED.get(ethnicity) if rng.random() < 0.6 else None,
        subject_injured=subject_injured,
        subject_medical_attention=subject_injured,
        officer_injured=rng.random() < 0.04,
        officer_assaulted=rng.random() < 0.15,
        outcome=_pick(OUTCOME_MIX, rng),
    )


def _plan_year(carriers: list[Carrier], *, start: datetime, end: datetime, rng: random.Random) -> list[_Use]:
    uses = []
    level_paths = [levels for levels, _ in LEVEL_MIX]
    weights = [share for _, share in LEVEL_MIX]
    for _ in range(round(USES_PER_DAY * DEMO_YEAR_DAYS)):
        carrier = rng.choice(carriers)
        assert carrier.taser is not None
        at = _moment(start, end, rng)
        levels = list(rng.choices(level_paths, weights)[0])
        request = _request(carrier, carrier.taser, at, levels, rng)
        uses.append(_Use(carrier, carrier.taser, at, request, rng.random() < FOOTAGE_SHARE, timedelta(minutes=rng.randint(40, 300))))  # fmt: skip
    return uses


def _plan_armoury(tour: list[Carrier], *, now: datetime, rng: random.Random) -> tuple[list[tuple[Carrier, datetime]], list[_Use], list[tuple[datetime, str, int | None, float | None]]]:  # fmt: skip
    """The armoury Taser's last ``ARMOURY_SHIFTS`` day shifts (one of the tour officers each), the
    uses reported on it, and the handle's log: arming and a spark test at the start of each shift,
    each reported use (one fired, two arced of which one reported 11 minutes off and one 38), and two
    trigger pulls nobody reported."""
    first, _ = SHIFT
    shifts = []
    log: list[tuple[datetime, str, int | None, float | None]] = []
    for days_ago in range(ARMOURY_SHIFTS + 1, 1, -1):
        issued = datetime.combine(now.date() - timedelta(days=days_ago), first, tzinfo=UTC)
        shifts.append((tour[days_ago % len(tour)], issued))
        spark = issued + timedelta(minutes=rng.randint(4, 12), seconds=rng.randrange(60))
        log += [(spark - timedelta(seconds=20), "Arm", None, None), (spark, "Arc", None, round(rng.uniform(1, 3), 1)), (spark + timedelta(seconds=30), "Safe", None, None)]  # fmt: skip
    uses = []
    plans = [(3, ["drawn", "red_dot", "fired"], 0), (8, ["drawn", "arced"], 11 * 60 + 7), (14, ["drawn", "red_dot", "arced"], 38 * 60), (17, ["drawn", "red_dot"], 0)]  # fmt: skip
    for shift_index, levels, log_off_by in plans:
        carrier, issued = shifts[shift_index]
        at = issued + timedelta(hours=rng.randint(4, 8), minutes=rng.randrange(60), seconds=rng.randrange(60))
        use = _Use(
            carrier,
            ARMOURY_TASER,
            at,
            _request(carrier, ARMOURY_TASER, at, levels, rng),
            True,
            timedelta(hours=2),
        )
        device_at = at + timedelta(seconds=log_off_by)
        if "fired" in levels:
            use.log += [(device_at - timedelta(seconds=40), "Arm", None, None), (device_at, "Trigger", 1, 5.0), (device_at, "Cartridge Deployed", 1, None)]  # fmt: skip
        elif "arced" in levels:
            use.log += [(device_at - timedelta(seconds=25), "Arm", None, None), (device_at, "Arc", None, 1.5)]
        else:
            use.log += [(at - timedelta(seconds=15), "Arm", None, None)]
        uses.append(use)
    for shift_index, seconds in ((6, 7.0), (12, 11.5)):
        _, issued = shifts[shift_index]
        pulled = issued + timedelta(hours=rng.randint(4, 8), minutes=rng.randrange(60))
        log += [(pulled - timedelta(seconds=30), "Arm", None, None), (pulled, "Trigger", None, seconds), (pulled + timedelta(seconds=40), "Safe", None, None)]  # fmt: skip
    return shifts, uses, log


def _log_csv(serial: str, entries: list[tuple[datetime, str, int | None, float | None]]) -> str:
    """The handle's log in the vendor's CSV export (extra columns as the export writes them)."""
    lines = [
        "Serial Number,Sequence,UTC Time,Local Time,Event Type,Bay,Duration Seconds,Battery Percent,Temperature C"
    ]
    battery = 100
    for sequence, (at, event, bay, seconds) in enumerate(sorted(entries, key=lambda e: e[0]), start=1):
        battery = max(20, battery - 1)
        local = at.astimezone().replace(tzinfo=None)
        lines.append(f"{serial},{sequence},{at:%Y-%m-%dT%H:%M:%SZ},{local:%Y-%m-%d %H:%M:%S},{event},{bay or ''},{'' if seconds is None else seconds},{battery},18")  # fmt: skip
    return "\n".join(lines) + "\n"


def seed_demo_taser(
    db: Session, store: ObjectStore, collars: list[str], *, now: datetime
) -> DemoTaser | None:
    """Seed the demo force's year of Taser among the demo officers ``collars``, unless seeded before."""
    if (
        fleet.get_device(db, f"{TASER_PREFIX}000") is not None
        or fleet.get_device(db, ARMOURY_TASER) is not None
    ):
        return None
    rng = random.Random(2024)
    today = now.date()
    start = now - timedelta(days=DEMO_YEAR_DAYS)
    supervisor = _login_actor(db, "demo.supervisor", Role.SUPERVISOR)
    standards = _login_actor(db, "demo.professional-standards", Role.PROFESSIONAL_STANDARDS)
    officer = _login_actor(db, "demo.officer", Role.OFFICER)
    # The demo officer's login carries a Taser when its officer qualifies, so it has reports to read.
    mine = people.get_officer_by_id(db, officer.officer_id) if officer.officer_id is not None else None
    ordered = ([mine.collar_number] if mine is not None else []) + collars
    carriers, tour = _choose_carriers(db, ordered, exclude={supervisor.officer_id})
    if not carriers or not tour:
        return None
    expires_on = today + timedelta(days=400)
    for carrier in carriers:
        initial = _train(db, carrier, year_start=start.date(), today=today, rng=rng)
        assert carrier.taser is not None
        _create_taser(
            db, carrier.taser, carrier.officer.unit.station or "", loaded_on=initial, expires_on=expires_on
        )
        issued = datetime.combine(initial + timedelta(days=1), time(7, 0), tzinfo=UTC)
        fleet.issue_device(db, SYSTEM, device_serial=carrier.taser, collar_number=carrier.officer.collar_number, kind="personal", now=issued)  # fmt: skip
    for carrier in tour:
        _train(db, carrier, year_start=start.date(), today=today, rng=rng)
    uses = _plan_year(carriers, start=start, end=now - timedelta(hours=3), rng=rng)
    shifts, armoury_uses, log = _plan_armoury(tour, now=now, rng=rng)
    uses = sorted(uses + armoury_uses, key=lambda use: use.at)
    clips = _record(db, store, uses, now=now, rng=rng)
    _create_taser(db, ARMOURY_TASER, ARMOURY_STATION, loaded_on=shifts[0][1].date(), expires_on=expires_on)
    filed = _file(db, uses, shifts, officer, now=now, expires_on=expires_on)
    _review_reports(db, filed, supervisor, officer, now=now, rng=rng)
    for use in armoury_uses:
        log += use.log
    import_device_log(db, SYSTEM, content=_log_csv(ARMOURY_TASER, log), log_format="csv", file_name=f"{ARMOURY_TASER}.csv", now=now)  # fmt: skip
    _raise_no_footage(db, start=start, now=now)
    _explain_some(db, standards, now=now)
    _seed_population(db, standards, now=now)
    counts: dict[str, int] = {}
    for exception in exceptions.list_exceptions(db, kind=None, open_only=False, limit=10_000, offset=0)[0]:
        counts[exception.kind] = counts.get(exception.kind, 0) + 1
    return DemoTaser(carriers=len(carriers) + len(tour), reports=len(filed), clips=clips, exceptions=counts)


def _record(db: Session, store: ObjectStore, uses: list[_Use], *, now: datetime, rng: random.Random) -> int:
    """Footage of the uses that have it: a clip of the officer's camera started a little before."""
    recordings = [
        DemoRecording(
            camera_serial=use.carrier.camera,
            officer_id=use.carrier.officer.id,
            recorded_at=use.at - timedelta(seconds=rng.randint(20, 240)),
            latitude=use.request.lat,
            longitude=use.request.lon,
            category="use_of_force",
            incident_number=use.request.incident_number,
        )
        for use in uses
        if use.footage
    ]
    clips = seed_demo_recordings(
        db, store, recordings, now=now, source=CLIP_SOURCE, numbered_from=CLIP_NUMBERS_FROM
    )
    return len(clips)


def _file(
    db: Session,
    uses: list[_Use],
    shifts: list[tuple[Carrier, datetime]],
    officer: Actor,
    *,
    now: datetime,
    expires_on: date,
) -> list[tuple[_Use, Deployment]]:
    """File each use when its officer would have, in time order, reloading fired cartridges at once;
    the armoury Taser is drawn for each shift and handed back at its end."""
    _, length = SHIFT
    events: list[tuple[datetime, int, _Use | Carrier | None]] = [(use.at, 1, use) for use in uses]
    for carrier, issued in shifts:
        events += [(issued, 0, carrier), (issued + length, 2, None)]
    events.sort(key=lambda event: (event[0], event[1]))
    filed = []
    tour_issue = None
    for at, _, what in events:
        if isinstance(what, Carrier):
            tour_issue = fleet.issue_device(db, SYSTEM, device_serial=ARMOURY_TASER, collar_number=what.officer.collar_number, kind="tour", now=at)  # fmt: skip
        elif what is None and tour_issue is not None:
            fleet.return_issue(db, SYSTEM, issue_id=tour_issue.id, now=at)
            tour_issue = None
        elif isinstance(what, _Use):
            actor = (
                officer
                if what.carrier.officer.id == officer.officer_id
                else _officer_actor(what.carrier.officer)
            )
            deployment = file_deployment(db, actor, what.request, now=min(now, at + what.filed_after))
            for bay in deployment.cartridge_bays:
                _load(
                    db, what.taser, bay, label=f"R{deployment.id}", loaded_on=at.date(), expires_on=expires_on
                )
            filed.append((what, deployment))
    return filed


def _review_reports(
    db: Session,
    filed: list[tuple[_Use, Deployment]],
    supervisor: Actor,
    officer: Actor,
    *,
    now: datetime,
    rng: random.Random,
) -> None:
    """Most reports signed off within a few days; the last week's partly still waiting; a few
    returned with comments (half of them put right and signed off); one edited after sign-off and
    signed off again, so its first version is kept."""
    returned = 0
    edited_after_sign_off = False
    for use, deployment in filed:
        filed_at = deployment.created_at
        if filed_at > now - timedelta(days=5) and rng.random() < 0.7:
            continue
        reviewed = min(now, filed_at + timedelta(hours=rng.randint(4, 72)))
        if returned < len(RETURN_COMMENTS) and filed_at < now - timedelta(days=20) and rng.random() < 0.04:
            review.return_report(
                db, supervisor, deployment.id, comment=RETURN_COMMENTS[returned], now=reviewed
            )
            returned += 1
            if returned % 2:
                continue  # still with the officer
            put_right = use.request.model_copy(
                update={"reasons": sorted({*use.request.reasons, "protect_public"})}
            )
            _edit(db, use, deployment, put_right, officer, now=reviewed + timedelta(days=1))
            reviewed += timedelta(days=2)
        review.sign_off(db, supervisor, deployment.id, now=reviewed)
        if not edited_after_sign_off and "fired" in deployment.levels and filed_at < now - timedelta(days=60):
            corrected = use.request.model_copy(
                update={"impact_factors": sorted({*use.request.impact_factors, "drugs"})}
            )
            _edit(db, use, deployment, corrected, officer, now=reviewed + timedelta(days=9))
            review.sign_off(db, supervisor, deployment.id, now=reviewed + timedelta(days=10))
            edited_after_sign_off = True


def _edit(
    db: Session, use: _Use, deployment: Deployment, request: DeploymentIn, officer: Actor, *, now: datetime
) -> None:
    # Officers without a login of their own cannot read their reports back; their sergeant's
    # office corrects them for them.
    actor = officer if use.carrier.officer.id == officer.officer_id else CORRECTOR
    review.edit_deployment(db, actor, deployment.id, request, now=now)


def _raise_no_footage(db: Session, *, start: datetime, now: datetime) -> None:
    """Run the no-footage check as the job would have over the year: each run looks back a week."""
    at = start + timedelta(hours=72)
    while at < now:
        linking.raise_no_footage(db, now=at)
        at += linking.EXCEPTION_LOOKBACK
    linking.raise_no_footage(db, now=now)


def _explain_some(db: Session, standards: Actor, *, now: datetime) -> None:
    """Professional standards have explained the oldest exception of two kinds; the rest are open."""
    for kind, explanation, text in (
        (
            "no_footage",
            "camera_failed",
            "The camera's battery failed early in the shift; it was replaced next day.",
        ),
        (
            "unreported_trigger",
            "training",
            "Shown to a tutor constable in the station yard; no report needed.",
        ),
    ):
        found, _ = exceptions.list_exceptions(db, kind=kind, open_only=True, limit=10_000, offset=0)
        if found:
            oldest = found[-1]
            when = min(now, oldest.raised_at + timedelta(days=2))
            exceptions.explain_exception(
                db, standards, oldest.id, explanation=explanation, text=text, now=when
            )


def _seed_population(db: Session, standards: Actor, *, now: datetime) -> None:
    rows = [
        PopulationRowIn(area=area, ethnicity=group, population=round(total * share))
        for area, (total, shares) in POPULATION.items()
        for group, share in shares.items()
    ]
    request = PopulationIn(source=POPULATION_SOURCE, year=POPULATION_YEAR, rows=rows)
    population.replace_population(db, standards, request, now=now)
