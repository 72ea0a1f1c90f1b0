"""The uploads' periodic work: deleting the stored bytes of uploads left unfinished past their expiry."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import transaction
from openbwv.domains import JobContext
from openbwv.jobs import JobRegistry
from openbwv.storage import ObjectStore, open_store
from openbwv.uploads import service
from openbwv.uploads.receiving import delete_objects, delete_unrecorded

EXPIRE_UPLOADS = "uploads.expire"


def expire_uploads(factory: sessionmaker[Session], store: ObjectStore) -> int:
    """Mark every unfinished upload past its expiry expired, then delete its parts, and any object
    no part names under an upload that has ended; how many expired.

    Marked first: an upload whose parts are half deleted must never be resumed. A run that dies
    after the commit leaves objects under the upload's prefix, which no row names and no reader uses.
    """
    with transaction(factory) as db:
        expired = service.expire_uploads(db, now=clock.now())
    if expired:
        keys = [key for part_keys in expired.values() for key in part_keys]
        asyncio.run(delete_objects(store, list(expired), keys))
    # Bytes a request stored and never recorded (it was killed in between) under uploads that have
    # since ended: the completion that sweeps its own upload may have been killed too.
    asyncio.run(delete_unrecorded(factory, store))
    return len(expired)


def registry_for(context: JobContext) -> JobRegistry:
    """The uploads' jobs, deleting from the store the settings name (opened when a job runs)."""
    registry = JobRegistry()

    @registry.schedule(EXPIRE_UPLOADS, "*/10 * * * *")
    def expire_every_ten_minutes(factory: sessionmaker[Session]) -> None:
        """Every ten minutes: expire unfinished uploads past their time and delete their bytes."""
        expire_uploads(factory, open_store(context.settings))

    @registry.on_startup
    def expire_at_start(factory: sessionmaker[Session]) -> None:
        """At start-up too, for a server that was down for a while."""
        expire_uploads(factory, open_store(context.settings))

    return registry
