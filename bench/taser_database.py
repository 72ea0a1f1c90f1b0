"""The Taser benchmark's database on PostgreSQL: a year of a force's Taser reports, recording and
live positions, built once and kept (``bench_taser_linking`` measures on it).

Migrated to head, officers made through the HR import, then loaded set-based from
``generate_series``: ``OPENBWV_BENCH_TASER_DEPLOYMENTS`` reports (100,000) over the year before
``NOW``, ``OPENBWV_BENCH_TASER_CLIPS`` clips (5,000,000) over the same year with their ``clip_place``
tracks (most reports with their officer's own clip and often a colleague's nearby; the rest the
force's other recording), ``RECENT`` of live positions of ``OPENBWV_BENCH_TASER_LIVE_CAMERAS``
cameras (2,000) once a minute, the links and exceptions earlier saves and runs made, and the
Tasers' logged trigger pulls. ``FILED`` officers get their course pass, Taser and issue through the
services, to file reports through ``file_deployment``.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.orm import Session, sessionmaker

from bench.bench_footage_search import (
    SERVER,
    TOWNS,
    _admin_url,
    _cell_sql,
    _check_cells,
    _drop_database,
    _plain,
    _secondary,
    _seed_people,
)
from openbwv import clock, fleet
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import devices, training
from openbwv.migrate import upgrade
from openbwv.policy import SYSTEM

CLIPS = int(os.environ.get("OPENBWV_BENCH_TASER_CLIPS", 5_000_000))
DEPLOYMENTS = int(os.environ.get("OPENBWV_BENCH_TASER_DEPLOYMENTS", 100_000))
OFFICERS = int(os.environ.get("OPENBWV_BENCH_TASER_OFFICERS", 22_000))
LIVE_CAMERAS = int(os.environ.get("OPENBWV_BENCH_TASER_LIVE_CAMERAS", 2_000))
TASER_OFFICERS = 3_000
"""The officers carrying Taser (the lowest-numbered, who also record most)."""
FILED = 300
"""The officers set up through the services, each filing one report through ``file_deployment``."""
DATABASE = f"openbwv_bench_taser_{CLIPS}"
URL = f"{SERVER}/{DATABASE}"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=365)
RECENT = timedelta(hours=48)
"""Reports within this long before ``NOW`` are the ones being saved: the seed links none of them,
and live positions cover this span."""
SETUP_AT = NOW - timedelta(days=120)
"""When the filing officers pass the course and are issued their Tasers."""
# The levels of a report, by share: drawn and red dot only, fired, arced, drive stun.
KINDS = (
    (0.55, '["drawn", "red_dot"]', "red_dot", 0),
    (0.80, '["drawn", "red_dot", "fired"]', "fired", 1),
    (0.90, '["drawn", "arced"]', "arced", 0),
    (1.00, '["drawn", "red_dot", "drive_stun"]', "drive_stun", 0),
)


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
