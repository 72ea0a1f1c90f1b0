"""Background and periodic work: one small layer over pgqueuer for every domain.

Domains declare tasks, cron schedules and start-up sweeps on a :class:`JobRegistry` and queue
tasks with :func:`enqueue` inside their transaction. With PostgreSQL the queue is pgqueuer's
tables (installed by migration 0002) and ``openbwv worker`` processes run the jobs; with SQLite
the queue is pgqueuer's in-memory adapter inside the web process. The handlers are the same.

Handlers must be idempotent: a job runs at least once, not exactly once. A worker killed
mid-job has its job run again elsewhere, a failed job is retried, and the in-memory queue is
lost when the process stops. Durable progress therefore lives in domain rows (a "published
up to" mark, a status column), and each domain's start-up sweep re-queues whatever those rows
show unfinished. A ``dedupe_key`` holds while its job is queued *or running*: a handler that
must see changes committed while it ran should re-check its domain rows before it returns.
"""

from openbwv.jobs.queue import enqueue, enqueue_async
from openbwv.jobs.registry import JobRegistry, ScheduleHandler, StartupHook, TaskHandler
from openbwv.jobs.worker import Worker, run_worker

__all__ = [
    "JobRegistry",
    "ScheduleHandler",
    "StartupHook",
    "TaskHandler",
    "Worker",
    "enqueue",
    "enqueue_async",
    "run_worker",
]
