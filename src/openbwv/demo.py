"""A believable demo force: West Midlands units, a few hundred officers, one login per role, a
few thousand clips of footage over the last 60 days, and a year of Taser uses.

Seeding is idempotent: existing units, officers and users are left as they are, and the demo
logins' passwords are made once and kept in the data directory, so every start prints working ones;
the footage is seeded once.
"""

from __future__ import annotations

import json
import random
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet, people
from openbwv.config import Settings, write_private_file
from openbwv.db import transaction
from openbwv.democam import CENTRES, DOCK_FOLDER
from openbwv.fleet.demo import seed_fleet
from openbwv.footage.demo import DEMO_CLIP_COUNT, seed_demo_footage
from openbwv.policy import SYSTEM, Role
from openbwv.storage import open_store
from openbwv.taser.demo import seed_demo_taser

DEMO_UNITS = [
    ("BHAM-RESP", "Birmingham Response", "response", "Birmingham"),
    ("BHAM-NPT", "Birmingham Neighbourhood Team", "neighbourhood", "Birmingham"),
    ("BHAM-CID", "Birmingham CID", "cid", "Birmingham"),
    ("COV-RESP", "Coventry Response", "response", "Coventry"),
    ("COV-NPT", "Coventry Neighbourhood Team", "neighbourhood", "Coventry"),
    ("WOLV-RESP", "Wolverhampton Response", "response", "Wolverhampton"),
    ("WALS-NPT", "Walsall Neighbourhood Team", "neighbourhood", "Walsall"),
    ("DUD-RESP", "Dudley Response", "response", "Dudley"),
    ("SOL-NPT", "Solihull Neighbourhood Team", "neighbourhood", "Solihull"),
    ("WBROM-CUST", "West Bromwich Custody", "custody", "West Bromwich"),
    ("FSU", "Force Support Unit", "force_support", "Birmingham"),
    ("OSU", "Operational Support Unit", "operational_support", "Birmingham"),
    ("TRAFFIC", "Central Motorway Police Group", "traffic", "Walsall"),
    ("TSG", "Territorial Support Group", "tsg", "Birmingham"),
]

# (rank, share of the force) for a realistic pyramid.
RANK_MIX = [
    ("constable", 0.78),
    ("sergeant", 0.13),
    ("inspector", 0.05),
    ("chief_inspector", 0.02),
    ("superintendent", 0.01),
    ("chief_superintendent", 0.01),
]

GIVEN_NAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Farhan",
    "Grace",
    "Harpreet",
    "Imran",
    "Jack",
    "Kiran",
    "Leah",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Priya",
    "Rhys",
    "Sophie",
    "Tariq",
    "Uma",
    "Vikram",
    "Wendy",
    "Yusuf",
    "Zara",
    "Aaron",
    "Bethany",
    "Callum",
    "Deepa",
    "Ethan",
    "Fatima",
    "George",
    "Hannah",
]
FAMILY_NAMES = [
    "Ahmed",
    "Baker",
    "Clarke",
    "Davies",
    "Evans",
    "Fletcher",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morris",
    "Nolan",
    "Owen",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Underwood",
    "Vaughan",
    "Walker",
    "Young",
    "Begum",
    "Campbell",
    "Edwards",
    "Kaur",
    "Mahmood",
    "Ward",
]

DEMO_OFFICER_COUNT = 320
DEMO_LOGINS: list[tuple[Role, str]] = [(role, f"demo.{role.value.replace('_', '-')}") for role in Role]
EXTERNAL_ORGANISATIONS = {
    Role.PROSECUTOR: "Crown Prosecution Service",
    Role.PANEL_MEMBER: "Taser scrutiny panel",
    Role.PCC_OFFICE: "Office of the Police and Crime Commissioner",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role


def _seed_people(db: Session) -> list[str]:
    """Create the demo units and officers that are missing; returns every demo collar number."""
    for code, name, kind, station in DEMO_UNITS:
        if people.get_unit(db, code) is None:
            people.create_unit(db, SYSTEM, code=code, name=name, kind=kind, station=station)
    rng = random.Random(2018)
    ranks = [rank for rank, _ in RANK_MIX]
    weights = [share for _, share in RANK_MIX]
    collars = []
    for n in range(DEMO_OFFICER_COUNT):
        collar = f"{4000 + n * 7}"
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        rank = rng.choices(ranks, weights)[0]
        unit = DEMO_UNITS[n % len(DEMO_UNITS)][0]
        if people.get_officer(db, collar) is None:
            people.create_officer(db, SYSTEM, collar_number=collar, name=name, rank=rank, unit=unit)
        collars.append(collar)
    return collars


def _demo_passwords(settings: Settings) -> dict[str, str]:
    """Passwords for the demo logins, made once and kept (0600) in the data directory."""
    path = settings.data_dir / "demo-logins.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for _, username in DEMO_LOGINS:
        stored.setdefault(username, secrets.token_urlsafe(12))
    write_private_file(path, json.dumps(stored, indent=2))
    return stored


def seed_demo(
    factory: sessionmaker[Session], settings: Settings, *, clips: int = DEMO_CLIP_COUNT
) -> list[DemoLogin]:
    """Seed what is missing of the demo force (with ``clips`` clips of footage, the first time) and
    return one working login per role."""
    passwords = _demo_passwords(settings)
    logins = []
    with transaction(factory) as db:
        all_collars = _seed_people(db)
        seed_fleet(db, all_collars)
        for station, (latitude, longitude) in CENTRES.items():
            if fleet.station_position(db, station) is None:
                fleet.set_station_position(db, SYSTEM, name=station, latitude=latitude, longitude=longitude)
        collars = iter(all_collars)
        for role, username in DEMO_LOGINS:
            logins.append(DemoLogin(username=username, password=passwords[username], role=role))
            if people.get_account(db, username) is not None:
                continue
            external = role in EXTERNAL_ORGANISATIONS
            people.create_account(
                db,
                SYSTEM,
                username=username,
                password=passwords[username],
                roles=[role],
                collar_number=None if external or role == Role.ADMIN else next(collars),
                display_name=f"Demo {role.value.replace('_', ' ')}"
                if external or role == Role.ADMIN
                else None,
                organisation=EXTERNAL_ORGANISATIONS.get(role),
            )
    # Its own transaction: the force is there even if the footage fails, and a later start retries it.
    with transaction(factory) as db:
        seed_demo_footage(db, open_store(settings), now=clock.now(), count=clips)
    # A year of Taser uses, with their own footage: also its own transaction, retried by a later start.
    with transaction(factory) as db:
        seed_demo_taser(db, open_store(settings), all_collars, now=clock.now())
    return logins


DEMO_DOCK = "DEMO-DOCK-BIRM"


class ServedChild:
    """A child process of ``openbwv demo``, started once the server answers and stopped with it."""

    def __init__(self, command: list[str], *, base_url: str) -> None:
        self.command = command
        self.base_url = base_url
        self.process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()
        self._starter = threading.Thread(target=self._start_when_served, daemon=True)

    def start(self) -> None:
        self._starter.start()

    def _start_when_served(self) -> None:
        while not self._stopped.wait(0.5):
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                continue
        if not self._stopped.is_set():
            self.process = subprocess.Popen(self.command)

    def stop(self) -> None:
        self._stopped.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class DockAgentProcess(ServedChild):
    """``openbwv dock`` for the demo's dock folder."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, *, base_url: str) -> None:
        folder = settings.data_dir / DOCK_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # A fresh credential each start, as `openbwv docks add` would print: the last one is replaced.
        with transaction(factory) as db:
            _, raw = fleet.issue_credential(db, SYSTEM, serial=DEMO_DOCK)
        self.credential = settings.data_dir / "demo-dock.credential"
        write_private_file(self.credential, raw + "\n")
        command = [
            sys.executable, "-c", "from openbwv.cli import run; run()", "dock",
            "--server", base_url, "--credential", str(self.credential), str(folder),
        ]  # fmt: skip
        super().__init__(command, base_url=base_url)


# The demo's moving cameras: enough that the control room's map is busy, few live streams (each
# stream is an encoder on this machine).
DEMO_SIMULATED_CAMERAS = 30
DEMO_LIVE_STREAMS = 2


def simulated_cameras(base_url: str) -> ServedChild:
    """``openbwv simulate cameras`` for the demo force's issued cameras."""
    command = [
        sys.executable, "-c", "from openbwv.cli import run; run()", "simulate", "cameras",
        "--count", str(DEMO_SIMULATED_CAMERAS), "--streams", str(DEMO_LIVE_STREAMS), "--server", base_url,
    ]  # fmt: skip
    return ServedChild(command, base_url=base_url)
