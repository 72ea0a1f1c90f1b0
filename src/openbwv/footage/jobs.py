"""The footage jobs: ingest an upload, probe a stored clip, the start-up sweep that re-queues
whatever the clip and source rows show unfinished, and the nightly retention run."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.config import Settings
from openbwv.footage import ingest, retention
from openbwv.footage.ingest import INGEST_TASK, PROBE_TASK
from openbwv.footage.probe import probe_in_pool
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM
from openbwv.storage import ObjectStore, open_store

# Ingest streams bytes from store to store; probing decodes video in the process pool, which bounds
# it again (``probe.POOL_SIZE`` per process).
INGEST_CONCURRENCY = 4
PROBE_CONCURRENCY = 2
RETENTION = "footage.retention"
# Nightly, in the quiet hours, before the audit log's nightly verification (03:15).
RETENTION_CRON = "30 2 * * *"


def registry_for(settings: Settings) -> JobRegistry:
    """The footage tasks and sweep for a worker with ``settings`` (which name the object store)."""
    registry = JobRegistry()

    def store() -> ObjectStore:
        return open_store(settings)

    @registry.task(INGEST_TASK, concurrency_limit=INGEST_CONCURRENCY)
    def ingest_upload(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        """Check, store once by content, attribute and queue the probe of an uploaded clip."""
        ingest.ingest(factory, store, payload)

    @registry.task(PROBE_TASK, concurrency_limit=PROBE_CONCURRENCY)
    def probe_clip(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        """Read a stored clip's facts, and make its poster and thumbnail strip."""
        ingest.probe_clip(factory, store, payload, run_probe=lambda key: probe_in_pool(settings, key))

    @registry.schedule(RETENTION, RETENTION_CRON)
    def run_retention(factory: sessionmaker[Session]) -> None:
        """Every night: destroy the deleted clips whose recoverable window has passed, then delete
        the clips now due (hidden, bytes kept); flagged, held and case-linked clips are never touched."""
        retention.run_retention(
            factory, store(), SYSTEM, now=clock.now(), window=retention.recovery_window(settings)
        )

    @registry.on_startup
    def requeue_unfinished(factory: sessionmaker[Session]) -> None:
        """Queue again the sources not yet ingested and the clips not yet probed."""
        ingest.sweep(factory)

    return registry
