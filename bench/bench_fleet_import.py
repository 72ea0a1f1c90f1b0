"""Met-scale import: 25,000 officers and 30,000 devices from CSV, then the daily authority check.

Runs on SQLite and on PostgreSQL (a schema of its own) side by side, with PostgreSQL's own ``COPY``
of the same rows into plain tables as the baseline, and writes the figures to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.report import update_section
from openbwv import people
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import imports, run_daily_authority_check
from openbwv.fleet.models import Device, Issue
from openbwv.fleet.training.models import TrainingPass
from openbwv.migrate import upgrade
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM

OFFICERS = 25_000
DEVICES = 30_000
TARGET_SECONDS = 20.0
POSTGRES_URL = os.environ.get(
    "OPENBWV_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TODAY = date(2026, 11, 26)
UNITS = [f"U{n:03d}" for n in range(60)]
RANKS = ["constable"] * 8 + ["sergeant", "inspector"]


def officers_csv() -> str:
    rng = random.Random(1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["collar_number", "name", "rank", "unit"])
    for n in range(OFFICERS):
        writer.writerow([f"{100000 + n}", f"Officer {n}", rng.choice(RANKS), rng.choice(UNITS)])
    return out.getvalue()


def devices_csv() -> str:
    rng = random.Random(2)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "serial", "model", "firmware", "station", "pooled"])
    for n in range(DEVICES):
        kind = "taser" if n % 6 == 0 else "camera"
        pooled = kind == "camera" and n % 10 == 1
        model = "X2" if kind == "taser" else "Axon Body 3"
        writer.writerow(
            [
                kind,
                f"SN{n:07d}",
                model,
                "1.24",
                f"Station {rng.randint(1, 40)}" if pooled else "",
                "yes" if pooled else "",
            ]
        )
    return out.getvalue()


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _seed_authority(session: Session) -> None:
    """Taser passes for a third of the officers (spread over 13 months) and Tasers out to some."""
    officer_ids = list(session.scalars(select(Officer.id)).all())
    rng = random.Random(3)
    passes = []
    for officer_id in officer_ids[::3]:
        passed_on = TODAY - timedelta(days=rng.randint(0, 400))
        passes.append({
            "officer_id": officer_id, "course_code": "taser_refresher", "authority": "taser",
            "passed_on": passed_on, "expires_on": passed_on.replace(year=passed_on.year + 1) if not (passed_on.month == 2 and passed_on.day == 29) else passed_on + timedelta(days=365),
            "recorded_by": "bench", "recorded_at": datetime.now(UTC),
        })  # fmt: skip
    session.execute(insert(TrainingPass), passes)
    tasers = list(session.scalars(select(Device.id).where(Device.kind == "taser")).all())
    issued = [
        {"device_id": d, "officer_id": o, "kind": "personal", "issued_at": datetime(2026, 1, 5, tzinfo=UTC), "issued_by": "bench"}
        for d, o in zip(tasers[:3000], officer_ids[::3], strict=False)
    ]  # fmt: skip
    session.execute(insert(Issue), issued)


def run_openbwv(url: str, officers: str, devices: str) -> dict[str, float]:
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as db:
        for code in UNITS:
            people.create_unit(db, SYSTEM, code=code, name=f"Unit {code}")
    figures: dict[str, float] = {}

    def import_officers() -> None:
        with transaction(factory) as db:
            assert imports.import_officers(db, SYSTEM, text=officers).imported == OFFICERS

    def import_devices() -> None:
        with transaction(factory) as db:
            assert imports.import_devices(db, SYSTEM, text=devices).imported == DEVICES

    figures["officers"] = _timed(import_officers)
    figures["devices"] = _timed(import_devices)
    with transaction(factory) as db:
        _seed_authority(db)

    def check() -> None:
        with transaction(factory) as db:
            found = run_daily_authority_check(db, SYSTEM, today=TODAY)
            figures["lapsing"] = len(found.lapsing)
            figures["lapsed_with_taser"] = len(found.lapsed_with_taser)

    figures["check"] = _timed(check)
    factory.kw["bind"].dispose()
    return figures


def run_copy(admin_url: str, schema: str, officers: str, devices: str) -> dict[str, float]:
    """PostgreSQL's own ``COPY`` of the same rows: into bare text tables, and (officers) into a table
    with the officer table's indexes and foreign keys, which is what storing them with integrity costs."""
    figures: dict[str, float] = {}
    with psycopg.connect(admin_url, autocommit=False) as connection:
        connection.execute(f'SET search_path TO "{schema}"')
        connection.execute("CREATE TABLE copy_officer (collar_number text, name text, rank text, unit text)")
        connection.execute(
            "CREATE TABLE copy_device (kind text, serial text, model text, firmware text, station text, pooled text)"
        )
        for table, text, key in (("copy_officer", officers, "officers"), ("copy_device", devices, "devices")):
            start = time.perf_counter()
            with connection.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(text)
            connection.commit()
            figures[key] = time.perf_counter() - start
        connection.execute("CREATE TABLE copy_officer_full (LIKE officer INCLUDING ALL)")
        connection.execute(
            "ALTER TABLE copy_officer_full ADD FOREIGN KEY (rank_code) REFERENCES rank (code), "
            "ADD FOREIGN KEY (unit_id) REFERENCES unit (id)"
        )
        unit_ids: dict[str, int] = dict(connection.execute("SELECT code, id FROM unit").fetchall())
        mapped = io.StringIO()
        writer = csv.writer(mapped, lineterminator="\n")
        for collar, name, rank, unit in list(csv.reader(io.StringIO(officers)))[1:]:
            writer.writerow([f"X{collar}", name, rank, unit_ids[unit], "t", "2026-11-26T00:00:00Z"])
        start = time.perf_counter()
        columns = "collar_number, name, rank_code, unit_id, is_active, created_at"
        with connection.cursor().copy(
            f"COPY copy_officer_full ({columns}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(mapped.getvalue())
        connection.commit()
        figures["officers_constrained"] = time.perf_counter() - start
    return figures


def write_doc(rows: list[tuple[str, dict[str, float]]], copy: dict[str, float]) -> str:
    def ratio(value: float, base: float) -> str:
        return f"{value / base:.1f}x" if base else "—"

    lines = [
        "## Fleet: bulk import and the daily authority check (`bench/bench_fleet_import.py`)",
        "",
        f"{OFFICERS:,} officers (HR export) and {DEVICES:,} devices (delivery note) imported from CSV through",
        "the service (one validation pass, batched inserts, a `received` movement per device, one",
        "transaction each), then the daily Taser authority check over a third of the officers holding a",
        "pass and 3,000 Tasers out. Baseline: PostgreSQL's own `COPY` of the same CSV into plain tables,",
        f"in the same run. Target: under {TARGET_SECONDS:.0f} s each and at most 5 times the `COPY`.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; run on 2026-11-26; "
        f"each figure the median of {ROUNDS} rounds.",
        "",
        "| Step | SQLite | PostgreSQL | PostgreSQL `COPY` (baseline) | PostgreSQL / `COPY` |",
        "|---|---|---|---|---|",
    ]
    sqlite, postgres = dict(rows)["SQLite"], dict(rows)["PostgreSQL"]
    for key, label in (
        ("officers", f"Import {OFFICERS:,} officers"),
        ("devices", f"Import {DEVICES:,} devices"),
    ):
        lines.append(
            f"| {label} | {sqlite[key]:.2f} s | {postgres[key]:.2f} s | {copy[key]:.2f} s | {ratio(postgres[key], copy[key])} |"
        )
    lines.append(
        f"| Daily authority check ({int(postgres['lapsing']):,} lapsing, {int(postgres['lapsed_with_taser']):,} lapsed with Taser) "
        f"| {sqlite['check']:.2f} s | {postgres['check']:.2f} s | — | — |"
    )
    lines += [
        "",
        "The import does more than `COPY`: it parses and checks every row against ranks, units and",
        "existing collar numbers or serials, and writes a movement row per device; the ratio is the cost",
        "of those rules over the raw load. A second baseline shows what PostgreSQL alone spends storing",
        "the same officers with the officer table's indexes and foreign keys: `COPY` of the already mapped",
        f"rows into such a table took {copy['officers_constrained']:.2f} s "
        f"({ratio(copy['officers_constrained'], copy['officers'])} the bare `COPY`), so at most 5 times",
        "the bare `COPY` is below what the database needs to keep the rows' integrity, before any",
        "parsing or checking in Python.",
    ]
    return "\n".join(lines)


ROUNDS = 3


def _median(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds: the machine is shared, so one run can be noisy."""
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def one_round(officers: str, devices: str) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """SQLite, PostgreSQL and the ``COPY`` baselines once, each database fresh."""
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = run_openbwv(f"sqlite:///{tmp}/bench.sqlite3", officers, devices)
    admin_url = POSTGRES_URL.replace("+psycopg", "")
    schema = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        postgres = run_openbwv(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", officers, devices)
        copy = run_copy(admin_url, schema, officers, devices)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return sqlite, postgres, copy


def main() -> None:
    officers, devices = officers_csv(), devices_csv()
    rounds = [one_round(officers, devices) for _ in range(ROUNDS)]
    sqlite, postgres, copy = (_median([r[i] for r in rounds]) for i in range(3))
    print(f"medians of {ROUNDS} rounds")
    print(f"{'step':<12}{'SQLite':>10}{'PostgreSQL':>12}{'COPY':>10}")
    for key in ("officers", "devices", "check"):
        base = f"{copy[key]:>9.2f}s" if key in copy else f"{'—':>10}"
        print(f"{key:<12}{sqlite[key]:>9.2f}s{postgres[key]:>11.2f}s{base}")
    update_section("bench_fleet_import", write_doc([("SQLite", sqlite), ("PostgreSQL", postgres)], copy))
    print("Figures written to docs/PERFORMANCE.md.")


if __name__ == "__main__":
    main()
