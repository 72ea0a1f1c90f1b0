"""Taser reports at force scale on PostgreSQL: linking footage when a report is saved, and the
periodic jobs that link late footage and raise the no-footage exceptions.

The database is its own (``openbwv_bench_taser_<clips>``, built by ``bench.taser_database``: a year
of 100,000 reports and 5 million clips by default) and kept between runs (a marker row names its
clips); ``--rebuild`` or ``OPENBWV_BENCH_TASER_REBUILD=1`` builds it again (needed after changing any
other size), ``--drop`` drops it.

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
    _built_clips,
    _drop_database,
    _load,
    _node,
    _plain,
    built_figures,
    captured,
    explain,
    mark_built,
    percentile,
)
from bench.report import update_section
from bench.taser_database import (
    CLIPS,
    DATABASE,
    FILED,
    KINDS,
    LIVE_CAMERAS,
    NOW,
    OFFICERS,
    RECENT,
    TASER_OFFICERS,
    URL,
    build,
    sizes,
)
from openbwv import footage
from openbwv.db import make_engine, make_session_factory
from openbwv.policy import Actor, Role
from openbwv.taser import file_deployment, linking, reconcile
from openbwv.taser.models import Deployment
from openbwv.taser.schemas import DeploymentIn

SAMPLES = int(os.environ.get("OPENBWV_BENCH_TASER_SAMPLES", 300))
TARGET_MS = 100.0
JOB_RUNS = 20
JOB_SPAN = timedelta(hours=6)
"""The late-footage job is measured at times over this span before ``NOW``."""


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
        row = connection.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        ).fetchone()
    server, buffers = (row[0].split()[0], row[1]) if row else ("?", "?")
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
        "the writes (links, evidence flags, audit events). Each report's `link_footage` is the "
        "first read of its clips and positions in the run; `link_footage` + `reconcile_report` reads "
        f"them again straight after. `shared_buffers` is {buffers} and the machine's page cache "
        "holds only part of the database, so a first read may wait on the shared disk. "
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
