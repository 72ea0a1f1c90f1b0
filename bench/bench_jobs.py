"""Jobs through pgqueuer, on PostgreSQL with two worker processes and in memory, beside baselines.

Every handler is a no-op, so the figures are the queue's own cost: enqueue, pick, run in a
thread, log. PostgreSQL is ``OPENBWV_TEST_POSTGRES_URL`` (the tests' server), in a schema of
this run's own that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import psycopg
from pgqueuer import PsycopgDriver, Queries
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.report import update_section
from openbwv.config import Settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.jobs import JobRegistry, Worker, enqueue, run_worker
from openbwv.migrate import upgrade

JOBS = 20_000
ONE_BY_ONE = 2_000
WORKER_PROCESSES = 2
# 10 is the worker's default: it spreads long jobs fairly over workers; 50 trades that for throughput.
BATCH_SIZES = (10, 50)
POSTGRES_URL = os.environ.get(
    "OPENBWV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MACHINE = "2 cores, 24 GiB"
RUN_DATE = date(2026, 11, 26)

Row = tuple[str, str, int, float]


def _noop(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """The trivial handler."""


def _timed(label: str, what: str, count: int, run: Callable[[], None]) -> Row:
    started = time.perf_counter()
    run()
    return (label, what, count, time.perf_counter() - started)


# In memory -----------------------------------------------------------------------------------


def _asyncio_queue_baseline() -> None:
    factory: sessionmaker[Session] = sessionmaker()

    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(JOBS):
            queue.put_nowait(number)

        async def consume() -> None:
            while not queue.empty():
                queue.get_nowait()
                await asyncio.to_thread(_noop, factory, {})

        await asyncio.gather(*(consume() for _ in range(WORKER_PROCESSES)))

    asyncio.run(main())


def _embedded_worker(settings: Settings, batch_size: int) -> float:
    """Seconds from the commit of ``JOBS`` enqueues to the last job run, in the embedded mode."""
    done = threading.Semaphore(0)
    registry = JobRegistry()

    @registry.task("bench.count")
    def count(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        done.release()

    async def main() -> float:
        worker = Worker(settings, registry, batch_size=batch_size)
        await worker.start()
        try:
            with transaction(worker.factory) as db:
                for _ in range(JOBS):
                    enqueue(db, "bench.count")
            started = time.perf_counter()
            await asyncio.to_thread(lambda: [done.acquire() for _ in range(JOBS)])
            return time.perf_counter() - started
        finally:
            await worker.stop()

    return asyncio.run(main())


def bench_in_memory() -> list[Row]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_key="bench")
        upgrade(settings.resolved_database_url)
        rows = [
            _timed(
                "in memory",
                "baseline: asyncio.Queue, 2 consumer tasks, handler in a thread",
                JOBS,
                _asyncio_queue_baseline,
            )
        ]
        rows += [
            (
                "in memory",
                f"run: embedded worker, batch {batch_size}, handler in a thread",
                JOBS,
                _embedded_worker(settings, batch_size),
            )
            for batch_size in BATCH_SIZES
        ]
        return rows


# PostgreSQL ----------------------------------------------------------------------------------


@contextmanager
def _postgres_schema() -> Iterator[str]:
    """A migrated schema of this run's own, as an ``openbwv`` database URL."""
    admin = POSTGRES_URL.replace("+psycopg", "")
    schema = f"bench_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _worker_process(url: str, ready: ProcessEvent, batch_size: int) -> None:
    registry = JobRegistry()
    registry.task("bench.noop")(_noop)
    registry.on_startup(lambda factory: ready.set())

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        settings = Settings(database_url=url, secret_key="bench")
        await run_worker(settings, registry, stop=stop, batch_size=batch_size)

    asyncio.run(main())


def _postgres_workers(conninfo: str, url: str, batch_size: int) -> tuple[float, float]:
    """Seconds to enqueue ``JOBS`` in one call, then for two worker processes to run them all."""
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(WORKER_PROCESSES)]
    workers = [context.Process(target=_worker_process, args=(url, event, batch_size)) for event in ready]
    for worker in workers:
        worker.start()
    try:
        for event in ready:
            if not event.wait(60):
                raise RuntimeError("a worker process did not start")

        async def enqueue_all() -> float:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
                started = time.perf_counter()
                await Queries(PsycopgDriver(connection)).enqueue(
                    ["bench.noop"] * JOBS, [None] * JOBS, [0] * JOBS
                )
                return time.perf_counter() - started

        enqueued = asyncio.run(enqueue_all())
        started = time.perf_counter()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            while connection.execute("SELECT count(*) FROM pgqueuer").fetchone() != (0,):
                time.sleep(0.02)
        return enqueued, time.perf_counter() - started
    finally:
        for worker in workers:
            if worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.join(30)


def bench_postgres() -> list[Row]:
    with _postgres_schema() as url:
        conninfo = url.replace("+psycopg", "")
        with psycopg.connect(conninfo) as connection:
            connection.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, payload bytea)")
            connection.commit()

        def insert_rows() -> None:
            with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
                cursor.executemany("INSERT INTO bench_row (payload) VALUES (%s)", [(None,)] * JOBS)

        def insert_one_by_one() -> None:
            with psycopg.connect(conninfo) as connection:
                for _ in range(ONE_BY_ONE):
                    with connection.transaction():
                        connection.execute("INSERT INTO bench_row (payload) VALUES (NULL)")

        engine = make_engine(url)
        factory = make_session_factory(engine)

        def insert_one_by_one_in_a_session() -> None:
            for _ in range(ONE_BY_ONE):
                with transaction(factory) as db:
                    db.execute(text("INSERT INTO bench_row (payload) VALUES (NULL)"))

        def enqueue_one_by_one() -> None:
            for _ in range(ONE_BY_ONE):
                with transaction(factory) as db:
                    enqueue(db, "bench.noop")

        rows = [
            _timed("PostgreSQL", "baseline: INSERT rows, executemany, one transaction", JOBS, insert_rows),
            _timed("PostgreSQL", "baseline: INSERT one row per transaction", ONE_BY_ONE, insert_one_by_one),
            _timed(
                "PostgreSQL",
                "baseline: INSERT one row per SQLAlchemy session transaction",
                ONE_BY_ONE,
                insert_one_by_one_in_a_session,
            ),
            _timed(
                "PostgreSQL", "enqueue(): one job per service transaction", ONE_BY_ONE, enqueue_one_by_one
            ),
        ]
        engine.dispose()
        for batch_size in BATCH_SIZES:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute("TRUNCATE pgqueuer")
            enqueued, ran = _postgres_workers(conninfo, url, batch_size)
            rows += [
                ("PostgreSQL", "enqueue: one bulk call", JOBS, enqueued),
                (
                    "PostgreSQL",
                    f"run: {WORKER_PROCESSES} worker processes, batch {batch_size}, handler in a thread",
                    JOBS,
                    ran,
                ),
            ]
        return rows


# Report --------------------------------------------------------------------------------------


def _table(rows: list[Row]) -> str:
    lines = [
        "| Backend | What | Jobs or rows | Seconds | Per second |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {backend} | {what} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} |"
        for backend, what, count, seconds in rows
    ]
    return "\n".join(lines)


def main() -> None:
    rows = bench_in_memory()
    try:
        rows += bench_postgres()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL skipped: {str(exc).strip().splitlines()[0]}")
    table = _table(rows)
    print(table)
    update_section(
        "bench_jobs",
        f"## Background jobs (pgqueuer)\n\n"
        f"Machine: {MACHINE}; {RUN_DATE.isoformat()}; `python -m bench` (`bench/bench_jobs.py`). "
        f"No-op handlers, so the figures are the queue's own cost; PostgreSQL on the same machine.\n\n"
        f"{table}\n",
    )


if __name__ == "__main__":
    main()
