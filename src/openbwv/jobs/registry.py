"""Where domains declare their tasks, cron schedules and start-up sweeps, free of the queue engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter
from sqlalchemy.orm import Session, sessionmaker

TaskHandler = Callable[[sessionmaker[Session], dict[str, Any]], None]
"""A task: runs in a worker thread with a session factory and the JSON payload it was queued with."""
ScheduleHandler = Callable[[sessionmaker[Session]], None]
StartupHook = Callable[[sessionmaker[Session]], None]


@dataclass(frozen=True)
class Task:
    name: str
    handler: TaskHandler
    concurrency_limit: int
    max_attempts: int


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    handler: ScheduleHandler


@dataclass
class JobRegistry:
    """Tasks, schedules and start-up sweeps of one domain, or of all of them once merged.

    ``<domain>/jobs.py`` holds ``registry = JobRegistry()`` and decorates its functions; the
    domain's declaration names it, and the application merges every domain's registry with
    :meth:`include`.
    """

    tasks: dict[str, Task] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    startup_hooks: list[StartupHook] = field(default_factory=list)
    """Every start-up sweep in the order a worker runs them: those declared last come last."""
    last_startup_hooks: list[StartupHook] = field(default_factory=list)

    def task(
        self, name: str, *, concurrency_limit: int = 0, max_attempts: int = 5
    ) -> Callable[[TaskHandler], TaskHandler]:
        """Declare a task; ``concurrency_limit`` caps runs at once across all workers (0: none).

        A handler that raises is retried with exponential backoff until it has run
        ``max_attempts`` times; then the failure stays in the job log.
        """
        if concurrency_limit < 0 or max_attempts < 1:
            raise ValueError("concurrency_limit must be >= 0 and max_attempts >= 1")

        def register(handler: TaskHandler) -> TaskHandler:
            self._add_task(Task(name, handler, concurrency_limit, max_attempts))
            return handler

        return register

    def schedule(self, name: str, cron: str) -> Callable[[ScheduleHandler], ScheduleHandler]:
        """Declare a handler run on a cron schedule (UTC; a sixth field counts seconds).

        However many workers run, one of them runs each tick; a tick missed while no worker
        ran is caught up once on PostgreSQL and skipped in the embedded mode. A run that
        raises is logged, not retried: the next tick is the retry.
        """
        if not croniter.is_valid(cron):
            raise ValueError(f"invalid cron expression {cron!r} for schedule {name!r}")

        def register(handler: ScheduleHandler) -> ScheduleHandler:
            self._add_schedule(Schedule(name, cron, handler))
            return handler

        return register

    def on_startup(self, hook: StartupHook) -> StartupHook:
        """Declare a sweep run whenever a worker starts, re-queueing unfinished work from domain rows."""
        self.startup_hooks.insert(len(self.startup_hooks) - len(self.last_startup_hooks), hook)
        return hook

    def on_startup_last(self, hook: StartupHook) -> StartupHook:
        """Declare a start-up sweep that runs after every other domain's, for work the others'
        sweeps may add to (the audit log sequences the events they record)."""
        self.startup_hooks.append(hook)
        self.last_startup_hooks.append(hook)
        return hook

    def include(self, other: JobRegistry) -> None:
        """Add everything ``other`` declares; a name declared twice is an error."""
        for task in other.tasks.values():
            self._add_task(task)
        for schedule in other.schedules.values():
            self._add_schedule(schedule)
        for hook in other.startup_hooks:
            if hook in other.last_startup_hooks:
                self.on_startup_last(hook)
            else:
                self.on_startup(hook)

    def _add_task(self, task: Task) -> None:
        if task.name in self.tasks:
            raise ValueError(f"task {task.name!r} is declared twice")
        self.tasks[task.name] = task

    def _add_schedule(self, schedule: Schedule) -> None:
        if schedule.name in self.schedules:
            raise ValueError(f"schedule {schedule.name!r} is declared twice")
        self.schedules[schedule.name] = schedule
