"""Queueing a task as part of the caller's transaction, on PostgreSQL or the in-process queue."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from pgqueuer import InMemoryQueries
from pgqueuer.queries import SyncQueries
from psycopg import Connection, RawCursor
from psycopg.rows import dict_row
from sqlalchemy import URL, event
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction

log = logging.getLogger(__name__)

_PENDING = "openbwv.jobs.pending"
# Longest a thread waits for the worker's event loop to take a job; it normally takes microseconds.
_HANDOVER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class QueuedJob:
    task: str
    payload: bytes | None
    dedupe_key: str | None
    delay: timedelta | None
    priority: int


@dataclass
class InProcessQueue:
    """The embedded mode's queue: pgqueuer's in-memory adapter, owned by one event loop."""

    loop: asyncio.AbstractEventLoop
    queries: InMemoryQueries
    _handovers: set[asyncio.Task[None]] = field(default_factory=set)

    def submit(self, jobs: list[QueuedJob]) -> None:
        """Hand ``jobs`` to the queue from any thread; waits unless called on the queue's own loop."""
        try:
            on_own_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_own_loop = False
        if on_own_loop:
            handover = self.loop.create_task(self._insert(jobs))
            self._handovers.add(handover)
            handover.add_done_callback(self._handovers.discard)
        else:
            asyncio.run_coroutine_threadsafe(self._insert(jobs), self.loop).result(_HANDOVER_TIMEOUT_S)

    async def _insert(self, jobs: list[QueuedJob]) -> None:
        await self.queries.enqueue(
            [job.task for job in jobs],
            [job.payload for job in jobs],
            [job.priority for job in jobs],
            [job.delay for job in jobs],
            [job.dedupe_key for job in jobs],
            on_conflict="skip",
        )


_in_process: dict[str, InProcessQueue] = {}


def queue_key(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def register_in_process(url: URL, queue: InProcessQueue) -> None:
    key = queue_key(url)
    if key in _in_process:
        raise RuntimeError("an embedded worker already runs for this database in this process")
    _in_process[key] = queue


def unregister_in_process(url: URL) -> None:
    _in_process.pop(queue_key(url), None)


class _TransactionDriver:
    """pgqueuer's synchronous driver interface over the session's own psycopg connection.

    pgqueuer's own sync driver insists on autocommit; this one runs its enqueue statement
    inside the caller's transaction, so the job exists exactly when the caller's work commits.
    """

    def __init__(self, db: Session) -> None:
        self._connection = cast(Connection[Any], db.connection().connection.driver_connection)

    def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        cursor = RawCursor(self._connection, row_factory=dict_row)
        cursor.execute(query, args or None)
        return cursor.fetchall()


def _hand_over_after_commit(db: Session) -> None:
    jobs = db.info[_PENDING]
    if not jobs:
        return
    db.info[_PENDING] = []
    queue = _in_process.get(queue_key(db.get_bind().engine.url))
    if queue is None:
        # No worker in this process (a CLI command): the start-up sweeps re-queue the work.
        log.info("no worker runs in this process; %d job(s) left to the start-up sweeps", len(jobs))
        return
    try:
        queue.submit(jobs)
    except Exception:
        # The caller's work has committed and must not look failed; the sweeps re-queue it.
        log.exception("could not hand %d job(s) to the in-process queue", len(jobs))


def _drop_after_rollback(db: Session) -> None:
    db.info[_PENDING] = []


def enqueue(
    db: Session,
    task: str,
    payload: Mapping[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    delay: timedelta | None = None,
    priority: int = 0,
) -> None:
    """Queue ``task`` as part of ``db``'s transaction: it runs only if that transaction commits.

    While a job with the same ``dedupe_key`` is queued or running, another is not queued.
    """
    job = QueuedJob(
        task=task,
        payload=json.dumps(payload, separators=(",", ":")).encode() if payload is not None else None,
        dedupe_key=dedupe_key,
        delay=delay,
        priority=priority,
    )
    if db.get_bind().dialect.name == "postgresql":
        SyncQueries(_TransactionDriver(db)).enqueue(
            job.task, job.payload, job.priority, job.delay, job.dedupe_key, on_conflict="skip"
        )
        return
    if _PENDING not in db.info:
        db.info[_PENDING] = []
        event.listen(db, "after_commit", _hand_over_after_commit)
        event.listen(db, "after_rollback", _drop_after_rollback)
    db.info[_PENDING].append(job)


async def enqueue_async(
    factory: sessionmaker[Session],
    task: str,
    payload: Mapping[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    delay: timedelta | None = None,
    priority: int = 0,
) -> None:
    """Queue ``task`` from async code, in a short transaction of its own run in a thread."""

    def enqueue_committed() -> None:
        with transaction(factory) as db:
            enqueue(db, task, payload, dedupe_key=dedupe_key, delay=delay, priority=priority)

    await asyncio.to_thread(enqueue_committed)
