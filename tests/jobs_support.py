"""Handlers for the jobs tests, and a worker process running them (``python -m tests.jobs_support``).

Each handler writes a row to ``job_probe``, a table of the tests' own, so that a test sees what
ran, how often, and in which process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry, run_worker

probe = Table(
    "job_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("value", String(200), nullable=False, default=""),
    Column("pid", Integer, nullable=False),
    Column("at", Float, nullable=False),
)

EVERY_SECOND = "* * * * * *"
# Long enough to outlast any test; the process holding it is killed.
HANG_S = 120


def write_probe(factory: sessionmaker[Session], kind: str, value: str = "") -> None:
    with transaction(factory) as db:
        db.execute(insert(probe).values(kind=kind, value=value, pid=os.getpid(), at=time.time()))


def count_probes(db: Session, kind: str) -> int:
    return db.scalar(select(func.count()).select_from(probe).where(probe.c.kind == kind)) or 0


def record(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    write_probe(factory, "record", str(payload.get("value", "")))


def hang_first_time(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """Hangs on its first run, which the test kills; finishes on any later one."""
    write_probe(factory, "hang.started")
    with transaction(factory) as db:
        first = count_probes(db, "hang.started") == 1
    if first:
        time.sleep(HANG_S)
    write_probe(factory, "hang.finished")


def fail_first_time(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    write_probe(factory, "flaky")
    with transaction(factory) as db:
        if count_probes(db, "flaky") == 1:
            raise RuntimeError("first attempt fails")


def tick(factory: sessionmaker[Session]) -> None:
    write_probe(factory, "tick")


def sweep(factory: sessionmaker[Session]) -> None:
    write_probe(factory, "sweep")


def make_registry(*, ticking: bool = False) -> JobRegistry:
    registry = JobRegistry()
    registry.task("test.record")(record)
    registry.task("test.hang")(hang_first_time)
    registry.task("test.flaky", max_attempts=2)(fail_first_time)
    registry.on_startup(sweep)
    if ticking:
        registry.schedule("test.tick", EVERY_SECOND)(tick)
    return registry


async def serve(database_url: str, *, ticking: bool, heartbeat_timeout: float) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await run_worker(
        Settings(database_url=database_url, secret_key="test-secret"),
        make_registry(ticking=ticking),
        stop=stop,
        heartbeat_timeout=timedelta(seconds=heartbeat_timeout),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--ticking", action="store_true")
    parser.add_argument("--heartbeat-timeout", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(serve(args.database_url, ticking=args.ticking, heartbeat_timeout=args.heartbeat_timeout))


if __name__ == "__main__":
    main()
