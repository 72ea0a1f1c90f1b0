"""Running the registered tasks, schedules and start-up sweeps on pgqueuer."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import psycopg
from pgqueuer import InMemoryDriver, InMemoryQueries, Job, PgQueuer, PsycopgDriver, Queries
from pgqueuer.domain.models import utc_now
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import CronExpressionEntrypoint
from pgqueuer.models import Schedule as PgqSchedule
from pgqueuer.ports import RepositoryPort
from psycopg.rows import TupleRow, dict_row
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import make_engine, make_session_factory
from openbwv.jobs.queue import InProcessQueue, register_in_process, unregister_in_process
from openbwv.jobs.registry import JobRegistry, Schedule, Task

log = logging.getLogger(__name__)

# pgqueuer writes a log row per job state change and never deletes one; keep a week of them.
JOB_LOG_RETENTION = timedelta(days=7)
STATISTICS_RETENTION = timedelta(days=90)
PRUNE_SCHEDULE = ("jobs.prune_log", "41 3 * * *")


async def prune_job_log(queries: RepositoryPort) -> None:
    """Delete pgqueuer's log and statistics rows past their retention; in memory, all of them."""
    if isinstance(queries, InMemoryQueries):
        await queries.clear_queue_log()
        await queries.clear_statistics_log()
        return
    names = queries.qbe.settings.qualified
    await queries.driver.execute(
        f"DELETE FROM {names.queue_table_log} WHERE aggregated AND created < NOW() - $1::interval",
        JOB_LOG_RETENTION,
    )
    await queries.driver.execute(
        f"DELETE FROM {names.statistics_table} WHERE created < NOW() - $1::interval",
        STATISTICS_RETENTION,
    )


class _InMemoryQueries(InMemoryQueries):
    """pgqueuer's in-memory queries, moving a schedule's next run on when it is picked.

    pgqueuer's PostgreSQL query sets ``next_run`` to the next tick as it picks a schedule; its
    in-memory adapter (1.6) leaves it in the past, so once a schedule's first tick had passed it ran
    again every time the scheduler woke, and the scheduler wakes for the most frequent schedule of
    all (the audit log's, every 3 s): a minute's schedule ran every few seconds beside SQLite.
    """

    async def fetch_schedule(
        self, entrypoints: dict[CronExpressionEntrypoint, timedelta]
    ) -> list[PgqSchedule]:
        picked = await super().fetch_schedule(entrypoints)
        now = utc_now()
        delays = {(key.expression, key.entrypoint): delay for key, delay in entrypoints.items()}
        for schedule in picked:
            row = self._schedules[int(schedule.id)]
            row["next_run"] = (now + delays[(row["expression"], row["entrypoint"])]).replace(microsecond=0)
        return picked


class _PsycopgDriver(PsycopgDriver):
    """pgqueuer's psycopg driver, listening on one connection and querying on another.

    psycopg holds a connection's lock while it waits for notifications, up to pgqueuer's
    one-second timeout when idle, so on a shared connection every query could wait that long.
    """

    def __init__(
        self, connection: psycopg.AsyncConnection[TupleRow], listen: psycopg.AsyncConnection[TupleRow]
    ) -> None:
        super().__init__(listen)
        self._queries = connection

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        cursor = psycopg.AsyncRawCursor(self._queries, row_factory=dict_row)
        await cursor.execute(query, args or None)
        return await cursor.fetchall()

    async def execute(self, query: str, *args: object) -> str:
        cursor = psycopg.AsyncRawCursor(self._queries)
        await cursor.execute(query, args or None)
        return cursor.statusmessage or ""


class Worker:
    """Runs ``registry`` until stopped: in memory beside SQLite, on the database with PostgreSQL.

    The web app starts one in its lifespan in the embedded (SQLite) mode, where jobs queued in
    this process run in this process; ``openbwv worker`` runs one per process with PostgreSQL.
    """

    def __init__(
        self,
        settings: Settings,
        registry: JobRegistry,
        *,
        factory: sessionmaker[Session] | None = None,
        heartbeat_timeout: timedelta = timedelta(seconds=30),
        batch_size: int = 10,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.heartbeat_timeout = heartbeat_timeout
        self.batch_size = batch_size
        self._own_engine: Engine | None = None
        if factory is None:
            self._own_engine = make_engine(
                settings.resolved_database_url, pool_size=settings.database_pool_size
            )
            factory = make_session_factory(self._own_engine)
        self.factory = factory
        self._url = make_url(settings.resolved_database_url)
        self._connections: list[psycopg.AsyncConnection[TupleRow]] = []
        self._pgq: PgQueuer | None = None
        self._run: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect, declare every task and schedule, and start working in the background."""
        queries: RepositoryPort
        if self.settings.is_sqlite:
            queries = _InMemoryQueries(driver=InMemoryDriver())
            register_in_process(self._url, InProcessQueue(asyncio.get_running_loop(), queries))
        else:
            conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._connections = [
                await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(2)
            ]
            queries = Queries(_PsycopgDriver(*self._connections))
        pgq = PgQueuer(connection=queries.driver, queries=queries)
        for task in self.registry.tasks.values():
            pgq.entrypoint(
                task.name,
                concurrency_limit=task.concurrency_limit,
                accepts_context=False,
                executor_factory=partial(DatabaseRetryEntrypointExecutor, max_attempts=task.max_attempts - 1),
            )(self._task_runner(task))
        for schedule in self.registry.schedules.values():
            pgq.schedule(schedule.name, schedule.cron, accepts_context=False)(self._schedule_runner(schedule))

        async def prune(_: PgqSchedule) -> None:
            await prune_job_log(queries)

        pgq.schedule(*PRUNE_SCHEDULE, accepts_context=False)(prune)
        self._pgq = pgq
        self._run = asyncio.create_task(self._work(pgq), name="openbwv-jobs-worker")
        self._run.add_done_callback(_log_failure)

    async def wait(self, stop: asyncio.Event) -> None:
        """Return when ``stop`` is set or the worker has stopped by itself, which only an error does."""
        if self._run is None:
            raise RuntimeError("the worker has not been started")
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({stopping, self._run}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    async def stop(self) -> None:
        """Let running jobs finish, then disconnect; re-raises what stopped the worker, if anything."""
        try:
            if self._pgq is not None and self._run is not None:
                self._pgq.shutdown.set()
                await self._run
        finally:
            if self.settings.is_sqlite:
                unregister_in_process(self._url)
            for connection in self._connections:
                await connection.close()
            if self._own_engine is not None:
                self._own_engine.dispose()

    async def _work(self, pgq: PgQueuer) -> None:
        # Polling at least once per heartbeat timeout re-runs a dead worker's jobs in time.
        running = pgq.run(
            dequeue_timeout=self.heartbeat_timeout,
            batch_size=self.batch_size,
            heartbeat_timeout=self.heartbeat_timeout,
        )
        await asyncio.gather(running, self._sweep())

    async def _sweep(self) -> None:
        for hook in self.registry.startup_hooks:
            try:
                await asyncio.to_thread(hook, self.factory)
            except Exception:
                log.exception("start-up sweep %s failed", getattr(hook, "__qualname__", hook))

    def _task_runner(self, task: Task) -> Callable[[Job], Awaitable[None]]:
        async def run(job: Job) -> None:
            payload = json.loads(job.payload) if job.payload else {}
            await asyncio.to_thread(task.handler, self.factory, payload)

        return run

    def _schedule_runner(self, schedule: Schedule) -> Callable[[PgqSchedule], Awaitable[None]]:
        async def run(_: PgqSchedule) -> None:
            await asyncio.to_thread(schedule.handler, self.factory)

        return run


def _log_failure(run: asyncio.Task[None]) -> None:
    if not run.cancelled() and run.exception() is not None:
        log.error("the job worker stopped", exc_info=run.exception())


async def run_worker(
    settings: Settings,
    registry: JobRegistry,
    *,
    stop: asyncio.Event | None = None,
    factory: sessionmaker[Session] | None = None,
    heartbeat_timeout: timedelta = timedelta(seconds=30),
    batch_size: int = 10,
) -> None:
    """Run ``registry``'s tasks, schedules and sweeps until ``stop`` is set or the worker fails.

    A job whose worker dies is run again by another once its heartbeat is ``heartbeat_timeout`` old.
    """
    worker = Worker(
        settings, registry, factory=factory, heartbeat_timeout=heartbeat_timeout, batch_size=batch_size
    )
    await worker.start()
    try:
        await worker.wait(stop or asyncio.Event())
    finally:
        await worker.stop()
