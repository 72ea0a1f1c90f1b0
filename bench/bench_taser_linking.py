"""Taser reports at force scale on PostgreSQL: linking footage when a report is saved, and the
periodic jobs that link late footage and raise the no-footage exceptions.

A database of its own (``openbwv_bench_taser_<clips>``) migrated to head, officers made through the HR
import, then loaded set-based from ``generate_series``: ``OPENBWV_BENCH_TASER_DEPLOYMENTS`` reports
(100,000) over the year before ``NOW``, ``OPENBWV_BENCH_TASER_CLIPS`` clips (5,000,000) over the same
year with their ``clip_place`` tracks (most reports with their officer's own clip and often a
colleague's nearby; the rest the force's other recording), two days of live positions of
``OPENBWV_BENCH_TASER_LIVE_CAMERAS`` cameras (2,000) once a minute, the links and exceptions earlier
saves and runs made, and the Tasers' logged trigger pulls. ``FILED`` officers get their course pass,
Taser and issue through the services, to file reports through ``file_deployment``. The database is
kept between runs (a marker row names its clips); ``--rebuild`` or ``OPENBWV_BENCH_TASER_REBUILD=1``
builds it again (needed after changing any other size), ``--drop`` drops it.

Every measured call runs in its own transaction, rolled back so that the database serves the next run
unchanged. The baseline of a report is the bare ``EXPLAIN (ANALYZE, BUFFERS)`` execution time of the
clip and position statements that its ``link_footage`` emitted.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.bench_footage_search import (
    SERVER,
    TOWNS,
    _admin_url,
    _built_clips,
    _cell_sql,
    _check_cells,
    _drop_database,
    _load,
    _node,
    _plain,
    _secondary,
    _seed_people,
    built_figures,
    captured,
    explain,
    mark_built,
    percentile,
)
from bench.report import update_section
from openbwv import clock, fleet, footage
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import devices, training
from openbwv.migrate import upgrade
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.taser import file_deployment, linking, reconcile
from openbwv.taser.models import Deployment
from openbwv.taser.schemas import DeploymentIn

CLIPS = int(os.environ.get("OPENBWV_BENCH_TASER_CLIPS", 5_000_000))
DEPLOYMENTS = int(os.environ.get("OPENBWV_BENCH_TASER_DEPLOYMENTS", 100_000))
OFFICERS = int(os.environ.get("OPENBWV_BENCH_TASER_OFFICERS", 22_000))
LIVE_CAMERAS = int(os.environ.get("OPENBWV_BENCH_TASER_LIVE_CAMERAS", 2_000))
SAMPLES = int(os.environ.get("OPENBWV_BENCH_TASER_SAMPLES", 300))
TASER_OFFICERS = 3_000
"""The officers carrying Taser (the lowest-numbered, who also record most)."""
FILED = 300
"""The officers set up through the services, each filing one report through ``file_deployment``."""
TARGET_MS = 100.0
DATABASE = f"openbwv_bench_taser_{CLIPS}"
URL = f"{SERVER}/{DATABASE}"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=365)
RECENT = timedelta(hours=48)
"""Reports within this long before ``NOW`` are the ones being saved: the seed links none of them,
and live positions cover this span."""
JOB_RUNS = 20
JOB_SPAN = timedelta(hours=6)
"""The late-footage job is measured at times over this span before ``NOW``."""
SETUP_AT = NOW - timedelta(days=120)
"""When the filing officers pass the course and are issued their Tasers."""
# The levels of a report, by share: drawn and red dot only, fired, arced, drive stun.
KINDS = (
    (0.55, '["drawn", "red_dot"]', "red_dot", 0),
    (0.80, '["drawn", "red_dot", "fired"]', "fired", 1),
    (0.90, '["drawn", "arced"]', "arced", 0),
    (1.00, '["drawn", "red_dot", "drive_stun"]', "drive_stun", 0),
)


# -- building the database -------------------------------------------------------------------------


def _kind_sql(r: str, column: int) -> str:
    """The ``column`` of ``KINDS`` (1 levels, 2 highest, 3 cartridges) for a random number ``r``."""
    whens = " ".join(f"WHEN {r} < {kind[0]} THEN {_literal(kind[column])}" for kind in KINDS)
    return f"(CASE {whens} END)"


def _literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"'{value}'"


def _uses_sql() -> str:
    """The uses of Taser: the reports over the year (the last ``RECENT`` of them not yet linked), and
    the ``FILED`` reports to be filed through the services, each near a town centre."""
    place = (
        "t.lat + ((random() + random()) / 2 - 0.5) * 0.05 AS lat, "
        "t.lon + ((random() + random()) / 2 - 0.5) * 0.08 AS lon"
    )
    return f"""
    CREATE TABLE bench_use AS
    SELECT s.g AS id, s.n, s.at, {place}, s.r AS kind, random() < 0.9 AS filmed, s.g > %(deployments)s AS filing
    FROM (
        SELECT g, CASE WHEN g > %(deployments)s THEN g - %(deployments)s - 1
                ELSE floor(random() * {TASER_OFFICERS})::int END AS n,
            CASE WHEN g > %(deployments)s THEN %(now)s - interval '1 hour' - random() * %(recent)s
                ELSE %(start)s + random() * (%(now)s - interval '1 hour' - %(start)s) END AS at,
            random() AS r, floor(random() * {len(TOWNS)})::int AS town
        FROM generate_series(1, %(deployments)s + {FILED}) AS g
    ) AS s
    JOIN bench_town AS t ON t.n = s.town
    """


def _deployment_sql() -> str:
    return f"""
    INSERT INTO taser_deployment (id, officer_id, taser_serial, occurred_at, lat, lon, location_type,
        incident_number, levels, highest_level, cartridges_discharged, cartridge_bays, reasons,
        impact_factors, subject_age_band, subject_gender, subject_ethnicity, subject_self_defined_ethnicity,
        subject_injured, subject_medical_attention, officer_injured, officer_medical_attention,
        officer_assaulted, outcome, status, filed_by, created_at, version)
    SELECT u.id, o.id, 'TS' || u.n, u.at, u.lat, u.lon, 'street', 'INC-' || u.id,
        {_kind_sql("u.kind", 1)}::json, {_kind_sql("u.kind", 2)}, {_kind_sql("u.kind", 3)},
        CASE WHEN {_kind_sql("u.kind", 3)} = 1 THEN '[1]' ELSE '[]' END::json,
        '["protect_self", "effect_arrest"]'::json, '["possession_of_weapon"]'::json, '18_34', 'male',
        'white', 'W1', false, false, false, false, true, 'arrested',
        CASE WHEN u.at < %(now)s - interval '7 days' THEN 'signed_off' ELSE 'submitted' END,
        o.collar_number, u.at + random() * interval '1 hour', 1
    FROM bench_use AS u JOIN bench_officer AS o ON o.n = u.n
    WHERE NOT u.filing
    """


def _clip_staging_sql() -> str:
    """Every clip with where it was: each filmed use's own clip (starting up to 10 minutes before,
    10 to 40 minutes long, on the spot), half of them a colleague's clip within some 150 m, and the
    rest of the force's recording over the year (officers skewed, 30 s to 30 minutes, near a town
    centre). Ids follow the recording time, as uploads would give them."""
    return f"""
    CREATE TABLE bench_clip AS
    SELECT row_number() OVER (ORDER BY s.recorded_at)::bigint AS id, s.*
    FROM (
        SELECT u.id AS use_id, u.filing, u.n, u.at - random() * interval '10 minutes' AS recorded_at,
            600 + random() * 1800 AS duration_s, u.lat + (random() - 0.5) * 0.0005 AS lat,
            u.lon + (random() - 0.5) * 0.0008 AS lon, true AS tracked, 'own_camera' AS reason
        FROM bench_use AS u WHERE u.filmed
        UNION ALL
        SELECT u.id, u.filing, floor(random() * %(officers)s)::int,
            u.at - random() * interval '15 minutes', 300 + random() * 1200,
            u.lat + (random() - 0.5) * 0.0025, u.lon + (random() - 0.5) * 0.004, true, 'nearby_track'
        FROM bench_use AS u WHERE u.filmed AND random() < 0.5
        UNION ALL
        SELECT NULL, false, least(floor(power(random(), 2.2) * %(officers)s)::int, %(officers)s - 1),
            %(start)s + random() * (%(now)s - %(start)s), 30 + power(random(), 2) * 1770,
            t.lat + ((random() + random()) / 2 - 0.5) * 0.05, t.lon + ((random() + random()) / 2 - 0.5) * 0.08,
            random() < 0.95, NULL
        FROM (
            SELECT floor(random() * {len(TOWNS)})::int AS town
            FROM generate_series(1, %(clips)s - (SELECT count(*) * 3 / 2 FROM bench_use WHERE filmed))
        ) AS g
        JOIN bench_town AS t ON t.n = g.town
    ) AS s
    """


def _clip_sql() -> str:
    """The clips: probed some hours after they ended (docked at the end of a shift); those whose
    probe is still to come (after ``NOW``) stored but not probed. Clips of reports linked before
    ``RECENT`` are kept as evidence."""
    probed = "(c.recorded_at + c.duration_s * interval '1 second' + c.dock * interval '12 hours')"
    return f"""
    INSERT INTO clip (id, sha256, size, storage_key, camera_serial, officer_id, recorded_at, ingest_state,
        probed_at, duration_s, codec, width, height, frame_rate, started_at, created_at, evidence_flag,
        legal_hold)
    SELECT c.id, encode(sha256(('bench taser clip ' || c.id)::bytea), 'hex'),
        (c.duration_s * 600000)::bigint, 'clips/' || c.id, 'CAM' || c.n, o.id, c.recorded_at,
        CASE WHEN {probed} <= %(now)s THEN 'ready' ELSE 'stored' END,
        CASE WHEN {probed} <= %(now)s THEN {probed} END, c.duration_s, 'h264', 1920, 1080, 30,
        c.recorded_at, c.recorded_at + interval '1 hour',
        c.use_id IS NOT NULL AND NOT c.filing AND c.recorded_at < %(now)s - %(recent)s, false
    FROM (SELECT *, random() AS dock FROM bench_clip) AS c JOIN bench_officer AS o ON o.n = c.n
    """


def _place_sql() -> str:
    """A tracked clip's 1 to 5 points some 150 m apart from where it started."""
    lat = "(c.lat + p.n * c.dlat)"
    lon = "(c.lon + p.n * c.dlon)"
    return f"""
    INSERT INTO clip_place (clip_id, point, cell, recorded_at, latitude, longitude)
    SELECT c.id, p.n, {_cell_sql("q.lat", "q.lon")}, c.recorded_at, q.lat, q.lon
    FROM (
        SELECT id, recorded_at, lat, lon, random() AS k, (random() - 0.5) * 0.0027::float8 AS dlat,
            (random() - 0.5) * 0.0044::float8 AS dlon
        FROM bench_clip WHERE tracked
    ) AS c
    CROSS JOIN LATERAL generate_series(0, floor(c.k * 5)::int) AS p (n)
    CROSS JOIN LATERAL (SELECT {lat}::float8 AS lat, {lon}::float8 AS lon) AS q
    """


def _positions_sql() -> str:
    """Once a minute over ``RECENT``, each live camera wandering a few kilometres about its town."""
    return f"""
    INSERT INTO live_position (serial, ts, lat, lon, accuracy_m, recording, battery_pct, storage_pct)
    SELECT 'CAM' || c.n, %(now)s - %(recent)s + m.m * interval '1 minute',
        t.lat + 0.02 * sin(m.m / 50.0 + c.n), t.lon + 0.03 * cos(m.m / 70.0 + c.n * 1.3), 5, c.n %% 3 = 0,
        80, 20
    FROM generate_series(0, %(live)s - 1) AS c (n)
    JOIN bench_town AS t ON t.n = c.n %% {len(TOWNS)}
    CROSS JOIN generate_series(0, (extract(epoch FROM %(recent)s) / 60)::int - 1) AS m (m)
    """


LINKS_SQL = """
INSERT INTO taser_clip_link (deployment_id, clip_id, reason, linked_at)
SELECT c.use_id, c.id, c.reason, d.created_at
FROM bench_clip AS c JOIN taser_deployment AS d ON d.id = c.use_id
WHERE NOT c.filing AND d.occurred_at < %(now)s - %(recent)s
"""

EXCEPTIONS_SQL = """
INSERT INTO taser_exception (kind, deployment_id, taser_serial, occurred_at, details, raised_at,
    explanation, explanation_text, explained_by, explained_at)
SELECT 'no_footage', d.id, d.taser_serial, d.occurred_at,
    json_build_object('incident_number', d.incident_number, 'highest_level', d.highest_level),
    d.occurred_at + interval '73 hours',
    CASE WHEN old THEN 'camera_failed' END, NULL,
    CASE WHEN old THEN 'bench' END, CASE WHEN old THEN d.occurred_at + interval '10 days' END
FROM (SELECT *, occurred_at < %(now)s - interval '30 days' AS old FROM taser_deployment) AS d
WHERE d.occurred_at <= %(now)s - interval '96 hours'
    AND NOT EXISTS (SELECT 1 FROM taser_clip_link AS l WHERE l.deployment_id = d.id)
"""

DEVICE_LOG_SQL = """
INSERT INTO taser_device_log_entry (taser_serial, occurred_at, kind, duration_s, import_id, verdict,
    deployment_id, reconciled_at)
SELECT 'TS' || u.n, date_trunc('second', u.at + (random() - 0.5) * interval '2 minutes'), 'trigger', 5,
    %(import_id)s, CASE WHEN u.at < %(now)s - interval '24 hours' AND NOT u.filing THEN 'reported' END,
    CASE WHEN u.at < %(now)s - interval '24 hours' AND NOT u.filing THEN u.id END,
    CASE WHEN u.at < %(now)s - interval '24 hours' AND NOT u.filing THEN u.at + interval '24 hours' END
FROM bench_use AS u WHERE u.kind >= 0.55
ON CONFLICT DO NOTHING
"""


def _filing_officers(factory: sessionmaker[Session]) -> float:
    """The ``FILED`` officers pass the Taser course, volunteer, and are issued a Taser (``TS<n>``,
    two cartridges loaded) through the services; seconds taken."""
    start = time.perf_counter()
    previous = clock.install(clock.FixedClock(SETUP_AT))
    try:
        with transaction(factory) as db:
            for n in range(FILED):
                collar, serial = str(200000 + n), f"TS{n}"
                day = SETUP_AT.date()
                training.record_pass(
                    db, SYSTEM, collar_number=collar, course="taser_initial", passed_on=day, today=day
                )
                training.add_volunteer(db, SYSTEM, collar_number=collar, volunteered_on=day)
                fleet.create_device(db, SYSTEM, kind="taser", serial=serial, model="X2", now=SETUP_AT)
                for bay in (1, 2):
                    devices.load_cartridge(
                        db,
                        SYSTEM,
                        taser_serial=serial,
                        serial=f"C{n}-{bay}",
                        lot="LOT-1",
                        expires_on=(NOW + timedelta(days=365)).date(),
                        bay=bay,
                        today=day,
                    )
                fleet.issue_device(
                    db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=SETUP_AT
                )
    finally:
        clock.install(previous)
    return time.perf_counter() - start


def build() -> dict[str, float]:
    """A fresh database: migrated, people seeded, everything else loaded; the seconds each took."""
    _drop_database(URL)
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    figures: dict[str, float] = {}
    start = time.perf_counter()
    upgrade(URL)
    figures["migrate"] = time.perf_counter() - start
    engine = make_engine(URL)
    factory = make_session_factory(engine)
    figures["people"] = _seed_people(factory, OFFICERS)
    figures["filing_officers"] = _filing_officers(factory)
    engine.dispose()
    params = {
        "now": NOW,
        "start": START,
        "recent": RECENT,
        "deployments": DEPLOYMENTS,
        "clips": CLIPS,
        "officers": OFFICERS,
        "live": LIVE_CAMERAS,
    }
    with psycopg.connect(_plain(URL)) as connection:
        connection.execute("SET synchronous_commit = off")
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("SELECT setseed(0.14)")
        connection.execute(
            "CREATE TABLE bench_officer AS SELECT (collar_number::int - 200000) AS n, id, collar_number "
            "FROM officer"
        )
        connection.execute("CREATE UNIQUE INDEX ON bench_officer (n)")
        towns = ", ".join(f"({n}, {lat}::float8, {lon}::float8)" for n, (lat, lon) in enumerate(TOWNS))
        connection.execute(f"CREATE TABLE bench_town AS SELECT * FROM (VALUES {towns}) AS t (n, lat, lon)")
        steps: list[tuple[str, str]] = [
            ("deployments", _uses_sql()),
            ("deployments", _deployment_sql()),
            ("clips", _clip_staging_sql()),
        ]
        for key, sql in steps:
            began = time.perf_counter()
            connection.execute(sql, params)
            figures[key] = figures.get(key, 0.0) + time.perf_counter() - began
        drops, creates = _secondary(connection)
        for statement in drops:
            connection.execute(statement)
        for key, sql in (("clips", _clip_sql()), ("places", _place_sql()), ("positions", _positions_sql())):
            began = time.perf_counter()
            connection.execute(sql, params)
            figures[key] = figures.get(key, 0.0) + time.perf_counter() - began
        began = time.perf_counter()
        for statement in creates:
            connection.execute(statement)
        figures["indexes"] = time.perf_counter() - began
        began = time.perf_counter()
        connection.execute(LINKS_SQL, params)
        connection.execute(EXCEPTIONS_SQL, params)
        row = connection.execute(
            "INSERT INTO taser_device_log_import (imported_by, imported_at, file_name, format, sha256, "
            "rows_read, rows_stored, rows_duplicate, rows_refused) VALUES ('bench', %(now)s, "
            "'bench.csv', 'csv', repeat('0', 64), 0, 0, 0, 0) RETURNING id",
            params,
        ).fetchone()
        assert row is not None
        connection.execute(DEVICE_LOG_SQL, {**params, "import_id": row[0]})
        for table in ("clip", "taser_deployment"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        figures["links"] = time.perf_counter() - began
        connection.commit()
        connection.autocommit = True
        began = time.perf_counter()
        connection.execute("VACUUM ANALYZE")
        figures["analyze"] = time.perf_counter() - began
        _check_cells(connection)
    return figures


def sizes() -> dict[str, int]:
    counts = {
        "clips": "SELECT count(*) FROM clip",
        "places": "SELECT count(*) FROM clip_place",
        "positions": "SELECT count(*) FROM live_position",
        "deployments": "SELECT count(*) FROM taser_deployment",
        "links": "SELECT count(*) FROM taser_clip_link",
        "exceptions": "SELECT count(*) FROM taser_exception",
        "open_exceptions": "SELECT count(*) FROM taser_exception WHERE explained_at IS NULL",
        "entries": "SELECT count(*) FROM taser_device_log_entry",
        "database": "SELECT pg_database_size(current_database())",
        "clip_bytes": "SELECT pg_total_relation_size('clip')",
        "clip_place_bytes": "SELECT pg_total_relation_size('clip_place')",
        "live_position_bytes": "SELECT pg_total_relation_size('live_position')",
    }
    with psycopg.connect(_plain(URL)) as connection:
        found = {}
        for key, sql in counts.items():
            row = connection.execute(sql).fetchone()
            found[key] = int(row[0]) if row else 0
    return found


# -- measuring ---------------------------------------------------------------------------------------


def reads_footage(statement: str) -> bool:
    """The spatial-temporal reads of linking: clips by officer, camera or place, positions by place."""
    head = statement.lstrip().upper()
    return (
        head.startswith("SELECT")
        and "FOR UPDATE" not in head
        and ("FROM clip " in statement or "FROM clip\n" in statement or "FROM live_position" in statement)
    )


@dataclass
class Timings:
    """Per-report milliseconds of a measured call and of its baseline."""

    took: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)
    indexes: set[str] = field(default_factory=set)

    def summary(self) -> str:
        values = self.took
        return (
            f"p50 {percentile(values, 0.5):.1f} / p95 {percentile(values, 0.95):.1f} / "
            f"p99 {percentile(values, 0.99):.1f} / max {max(values):.1f} ms"
        )


def _rolled_back(factory: sessionmaker[Session], work: Callable[[Session], Any]) -> tuple[float, Any]:
    """Milliseconds ``work`` took in a transaction of its own, rolled back after."""
    with factory() as db:
        start = time.perf_counter()
        result = work(db)
        db.flush()
        took = (time.perf_counter() - start) * 1000
        db.rollback()
    return took, result


def measure_link_footage(factory: sessionmaker[Session], engine: Engine) -> tuple[Timings, Timings]:
    """``link_footage`` alone, and with ``reconcile_report`` as a save runs them, on ``SAMPLES``
    reports of the last ``RECENT`` (not linked yet)."""
    with factory() as db:
        ids = list(
            db.scalars(
                select(Deployment.id)
                .where(Deployment.occurred_at >= NOW - RECENT)
                .order_by(Deployment.occurred_at.desc())
                .limit(SAMPLES)
            )
        )
    linking_only, with_reconcile = Timings(), Timings()
    for deployment_id in ids:
        with captured(engine) as statements:
            took, linked = _rolled_back(factory, partial(_link_one, deployment_id=deployment_id))
        linking_only.took.append(took)
        linking_only.linked.append(len(linked))
        baseline, used = explain(engine, statements.seen, reads_footage)
        linking_only.baseline.append(baseline)
        linking_only.indexes |= used

        def save(db: Session, i: int = deployment_id) -> None:
            deployment = _get(db, i)
            linking.link_footage(db, deployment, now=NOW)
            reconcile.reconcile_report(db, deployment, now=NOW)

        with_reconcile.took.append(_rolled_back(factory, save)[0])
    return linking_only, with_reconcile


def _link_one(db: Session, deployment_id: int) -> list[int]:
    return linking.link_footage(db, _get(db, deployment_id), now=NOW)


def _get(db: Session, deployment_id: int) -> Deployment:
    deployment = db.get(Deployment, deployment_id)
    assert deployment is not None
    return deployment


def measure_filing(factory: sessionmaker[Session], engine: Engine) -> Timings:
    """The whole ``file_deployment`` of each ``FILED`` officer's report, filed by the officer."""
    with engine.connect() as connection:
        uses = connection.execute(
            text(
                "SELECT u.n, u.at, u.lat, u.lon, u.kind, o.id FROM bench_use AS u "
                "JOIN bench_officer AS o ON o.n = u.n WHERE u.filing ORDER BY u.id"
            )
        ).all()
    timings = Timings()
    for n, at, lat, lon, kind, officer_id in uses:
        _, levels, _, cartridges = next(k for k in KINDS if kind < k[0])
        request = DeploymentIn.model_validate(
            {
                "collar_number": str(200000 + n),
                "taser_serial": f"TS{n}",
                "occurred_at": at.isoformat(),
                "lat": lat,
                "lon": lon,
                "location_type": "street",
                "incident_number": f"INC-F{n}",
                "levels": json.loads(levels),
                "cartridges_discharged": cartridges,
                "cartridge_bays": [1] if cartridges else [],
                "reasons": ["protect_self", "effect_arrest"],
                "impact_factors": ["possession_of_weapon"],
                "subject_age_band": "18_34",
                "subject_gender": "male",
                "subject_ethnicity": "white",
                "subject_self_defined_ethnicity": "W1",
                "outcome": "arrested",
                "officer_assaulted": True,
            }
        )
        actor = Actor(
            username=str(200000 + n),
            roles=frozenset({Role.OFFICER}),
            user_id=officer_id,
            officer_id=officer_id,
        )
        with captured(engine) as statements:
            took, deployment_links = _rolled_back(factory, partial(_file, actor=actor, request=request))
        timings.took.append(took)
        timings.linked.append(deployment_links)
        baseline, used = explain(engine, statements.seen, reads_footage)
        timings.baseline.append(baseline)
        timings.indexes |= used
    return timings


def _file(db: Session, actor: Actor, request: DeploymentIn) -> int:
    deployment = file_deployment(db, actor, request, now=NOW)
    return len(linking.linked_clips(db, [deployment.id])[deployment.id])


def measure_jobs(factory: sessionmaker[Session], engine: Engine) -> dict[str, Any]:
    """``raise_no_footage`` over the day of reports newly past the grace period; ``link_new_footage``
    at ``NOW``; and its ``link_clips`` over the clips probed in the ``NEW_FOOTAGE_LOOKBACK`` before
    ``JOB_RUNS`` times over ``JOB_SPAN`` (clips probed after left out, as the job then saw them)."""
    figures: dict[str, Any] = {}
    with engine.connect() as connection:
        figures["due"] = connection.execute(
            text(
                "SELECT count(*) FROM taser_deployment AS d WHERE d.occurred_at <= :due "
                "AND d.occurred_at > :due - interval '7 days' "
                "AND NOT EXISTS (SELECT 1 FROM taser_clip_link AS l WHERE l.deployment_id = d.id) "
                "AND NOT EXISTS (SELECT 1 FROM taser_exception AS e WHERE e.deployment_id = d.id)"
            ),
            {"due": NOW - timedelta(hours=72)},
        ).scalar_one()
    runs = [_rolled_back(factory, partial(linking.raise_no_footage, now=NOW)) for _ in range(3)]
    figures["raise_ms"] = [took for took, _ in runs]
    figures["raised"] = runs[0][1]
    with engine.connect() as connection:
        figures["new_clips"] = _probed_between(connection, NOW)
    figures["new_ms"] = [
        took
        for took, _ in (_rolled_back(factory, partial(linking.link_new_footage, now=NOW)) for _ in range(3))
    ]
    rng = random.Random(14)
    jobs: list[tuple[float, int, int]] = []
    for _ in range(JOB_RUNS):
        at = NOW - timedelta(minutes=rng.uniform(0, JOB_SPAN.total_seconds() / 60))
        with engine.connect() as connection:
            ids = _probed_between(connection, at)
        with factory() as db:
            spans = footage.clip_spans(db, ids)
            start = time.perf_counter()
            made = linking.link_clips(db, [spans[i] for i in ids], now=at)
            db.flush()
            jobs.append(((time.perf_counter() - start) * 1000, len(ids), made))
            db.rollback()
    figures["jobs"] = jobs
    return figures


def _probed_between(connection: Connection, at: datetime) -> list[int]:
    """The clips the late-footage job run at ``at`` reads, in its order (as the database stood then:
    clips probed later are left out)."""
    return list(
        connection.execute(
            text("SELECT id FROM clip WHERE probed_at BETWEEN :since AND :at ORDER BY probed_at, id"),
            {"since": at - linking.NEW_FOOTAGE_LOOKBACK, "at": at},
        ).scalars()
    )


def tidy(engine: Engine) -> None:
    """Vacuum the tables the rolled-back calls wrote to, so the kept database serves the next run
    as it served this one."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(
            "VACUUM (ANALYZE) clip, taser_deployment, taser_clip_link, taser_exception, audit_event, "
            "taser_cartridge, device_movement"
        )


def _removed(plan: dict[str, Any]) -> int:
    """The rows a plan's nodes read and their filters dropped."""
    own = int(plan.get("Rows Removed by Filter", 0)) + int(plan.get("Rows Removed by Index Recheck", 0))
    return own + sum(_removed(child) for child in plan.get("Plans", []))


def plans(engine: Engine, factory: sessionmaker[Session]) -> list[str]:
    """The plan of each footage read of one report's ``link_footage``, outermost node first."""
    with factory() as db:
        deployment_id = db.scalar(
            select(Deployment.id)
            .where(Deployment.occurred_at >= NOW - RECENT)
            .order_by(Deployment.id)
            .limit(1)
        )
    assert deployment_id is not None
    with captured(engine) as statements:
        _rolled_back(factory, partial(_link_one, deployment_id=deployment_id))
    found = []
    with engine.connect() as connection:
        for statement, parameters in statements.seen:
            if reads_footage(statement):
                plan = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
                ).scalar_one()
                removed = _removed(plan[0]["Plan"])
                kept_out = f", {removed:,} rows read and dropped by its filters" if removed else ""
                found.append(f"{plan[0]['Execution Time']:.1f} ms: {_node(plan[0]['Plan'])}{kept_out}")
    return found


# -- the report -----------------------------------------------------------------------------------------


def _row(label: str, timings: Timings, baseline: bool = True) -> str:
    t = timings.took
    cells = [f"{percentile(t, q):.1f}" for q in (0.5, 0.95, 0.99)] + [f"{max(t):.1f}"]
    base = (
        f"{percentile(timings.baseline, 0.5):.1f} / {percentile(timings.baseline, 0.95):.1f} / "
        f"{max(timings.baseline):.1f}"
        if baseline and timings.baseline
        else "—"
    )
    return f"| {label} | {' | '.join(cells)} | {base} |"


def write_doc(
    built: dict[str, float] | None,
    size: dict[str, int],
    results: dict[str, Any],
    load: dict[str, str],
) -> str:
    with psycopg.connect(_plain(URL)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    server = row[0].split()[0] if row else "?"
    linking_only: Timings = results["link"]
    saved: Timings = results["link_reconcile"]
    filed: Timings = results["filed"]
    jobs = results["jobs"]
    job_ms = [took for took, _, _ in jobs["jobs"]]
    job_clips = [clips for _, clips, _ in jobs["jobs"]]
    per_clip = sum(job_ms) / max(sum(job_clips), 1)
    lines = [
        "## Taser: linking footage and detecting exceptions (`bench/bench_taser_linking.py`)",
        "",
        f"PostgreSQL {server}, Python {platform.python_version()}, {os.cpu_count()} cores shared with "
        f"other work; run on {datetime.now(UTC).date().isoformat()}. A year of a force of {OFFICERS:,} "
        f"officers before {NOW:%Y-%m-%d %H:%M} UTC: {size['deployments']:,} Taser reports "
        f"(`OPENBWV_BENCH_TASER_DEPLOYMENTS`) by {TASER_OFFICERS:,} Taser officers near 12 West Midlands "
        f"town centres, {size['clips']:,} clips (`OPENBWV_BENCH_TASER_CLIPS`) with {size['places']:,} "
        "`clip_place` rows (95% of the force's recording and every report's footage a track of 1 to 5 "
        "points some 150 m apart; 30 s to 30 minutes long; no clip deleted by retention, so every "
        "read sees more rows than a force would keep). 90% of the uses have the officer's own clip "
        "(starting up to 10 minutes before, 10 to 40 minutes long, on the spot), half of those also a "
        "colleague's clip within 150 m; the rest no footage of their own. Reports older than "
        f"{RECENT.total_seconds() / 3600:.0f} hours carry the links their save made "
        f"({size['links']:,} `taser_clip_link` rows) and, with no footage past the grace period, a "
        f"`no_footage` exception ({size['exceptions']:,}, {size['open_exceptions']:,} still open); "
        f"{size['entries']:,} trigger pulls in the Tasers' logs. {size['positions']:,} `live_position` "
        f"rows: {LIVE_CAMERAS:,} cameras once a minute over the last "
        f"{RECENT.total_seconds() / 3600:.0f} hours. {FILED} officers passed the course and hold a "
        "Taser through the services (`record_pass`, `add_volunteer`, `create_device`, "
        "`load_cartridge`, `issue_device`); everything else loaded set-based from `generate_series`.",
        "",
    ]
    if built is not None:
        lines.append(
            f"Build (load average {load['build']}; kept between runs, so possibly from an earlier "
            f"run): migrate {built['migrate']:.1f} s, officers through the HR import "
            f"{built['people']:.1f} s, {FILED} Taser holders through the services "
            f"{built['filing_officers']:.1f} s, reports {built['deployments']:.0f} s, clips "
            f"{built['clips']:.0f} s, places {built['places']:.0f} s, positions {built['positions']:.0f} s, "
            f"clip indexes and constraints (dropped for the load) {built['indexes']:.0f} s, links, "
            f"exceptions and device logs {built['links']:.0f} s, `VACUUM ANALYZE` {built['analyze']:.0f} s."
        )
    lines += [
        f"Size: database {size['database'] / 2**30:.2f} GiB, `clip` with its indexes "
        f"{size['clip_bytes'] / 2**30:.2f} GiB, `clip_place` {size['clip_place_bytes'] / 2**30:.2f} GiB, "
        f"`live_position` {size['live_position_bytes'] / 2**30:.2f} GiB.",
        "",
        f"At save time (load average {load['save']}), each call in a transaction of its own, rolled back "
        f"after (so the commit is not counted and the database serves the next run unchanged), in ms. "
        f"`link_footage` and `link_footage` + `reconcile_report` ran on the {len(linking_only.took)} "
        f"latest reports (the last {RECENT.total_seconds() / 3600:.0f} hours, not linked yet; median "
        f"{percentile([float(n) for n in linking_only.linked], 0.5):.0f} clips linked, "
        f"max {max(linking_only.linked)}); `file_deployment` is the whole save (rules, issue and "
        "authority checks, cartridge discharged through the fleet, audit, linking, reconciling with "
        f"the device log) of {len(filed.took)} reports filed by their officers (median "
        f"{percentile([float(n) for n in filed.linked], 0.5):.0f} clips linked). Baseline: the bare "
        "`EXPLAIN (ANALYZE, BUFFERS)` execution time of the clip and position reads that same call "
        "emitted (officer's clips, clips by place, cameras by telemetry, those cameras' clips), without "
        "the writes (links, evidence flags, audit events). "
        f"Target: under {TARGET_MS:.0f} ms a report.",
        "",
        "| Call | p50 | p95 | p99 | max | Baseline p50 / p95 / max |",
        "|---|---|---|---|---|---|",
        _row("`link_footage`", linking_only),
        _row("`link_footage` + `reconcile_report`", saved, baseline=False),
        _row("`file_deployment` (whole save)", filed),
        "",
        f"Indexes the reads used: {', '.join(f'`{i}`' for i in sorted(linking_only.indexes | filed.indexes))}.",
        "Plans of one report's reads (`EXPLAIN ANALYZE`, outermost node first):",
        "",
        *[f"- {plan}" for plan in results["plans"]],
        "",
        f"Jobs (load average {load['jobs']}), rolled back likewise: `raise_no_footage` at "
        f"{NOW:%Y-%m-%d %H:%M} UTC, with {jobs['due']:,} reports newly past the 72-hour grace period "
        "and neither footage nor an exception (one day's; earlier runs dealt with the days before), "
        f"looked for footage again and raised {jobs['raised']:,} exceptions in "
        f"{', '.join(f'{ms:,.0f}' for ms in jobs['raise_ms'])} ms (three runs). `link_new_footage` at "
        f"that time read the {len(jobs['new_clips'])} clips probed in the "
        f"{linking.NEW_FOOTAGE_LOOKBACK.total_seconds() / 60:.0f} minutes before and matched them to the "
        f"reports of their time in {', '.join(f'{ms:,.0f}' for ms in jobs['new_ms'])} ms (three runs). "
        f"Its matching, `link_clips`, over the clips probed in the 10 minutes before {JOB_RUNS} other "
        f"times in the last {JOB_SPAN.total_seconds() / 3600:.0f} hours (median "
        f"{percentile([float(c) for c in job_clips], 0.5):.0f} clips, max {max(job_clips)}; the force "
        f"probes about {CLIPS / 365 / 24 / 60:.1f} clips a minute): p50 {percentile(job_ms, 0.5):,.0f} / "
        f"max {max(job_ms):,.0f} ms a run, {per_clip:.1f} ms a clip, so about "
        f"{per_clip * CLIPS / 365 / 24 / 60:.0f} ms for a minute's worth of new clips.",
    ]
    return "\n".join(lines)


def main() -> None:
    args = set(sys.argv[1:])
    if "--drop" in args:
        _drop_database(URL)
        print(f"Dropped {DATABASE}.")
        return
    load: dict[str, str] = {}
    built = None
    if (
        "--rebuild" in args
        or os.environ.get("OPENBWV_BENCH_TASER_REBUILD") == "1"
        or _built_clips(URL) != CLIPS
    ):
        before = _load()
        built = build()
        load["build"] = f"{before} → {_load()}"
        mark_built(built, load["build"], URL, CLIPS)
        print("build:", {k: round(v, 1) for k, v in built.items()})
    else:
        cached = built_figures(URL)
        if cached is not None:
            built, load["build"] = cached
    size = sizes()
    print("size:", size)
    engine = make_engine(URL)
    factory = make_session_factory(engine)
    results: dict[str, Any] = {}
    load["save"] = _load()
    results["link"], results["link_reconcile"] = measure_link_footage(factory, engine)
    print(
        "link_footage:", results["link"].summary(), "baseline p50", percentile(results["link"].baseline, 0.5)
    )
    print("link_footage + reconcile_report:", results["link_reconcile"].summary())
    results["filed"] = measure_filing(factory, engine)
    print(
        "file_deployment:",
        results["filed"].summary(),
        "baseline p50",
        percentile(results["filed"].baseline, 0.5),
    )
    load["save"] += " → " + _load()
    results["plans"] = plans(engine, factory)
    print("\n".join(results["plans"]))
    load["jobs"] = _load()
    results["jobs"] = measure_jobs(factory, engine)
    load["jobs"] += " → " + _load()
    print("jobs:", {k: len(v) if k == "new_clips" else v for k, v in results["jobs"].items()})
    tidy(engine)
    engine.dispose()
    update_section("bench_taser_linking", write_doc(built, size, results, load))
    print("Figures written to docs/PERFORMANCE.md.")


if __name__ == "__main__":
    main()
