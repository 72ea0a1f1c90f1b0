"""The app with one streaming upload route added, for the tests and the benchmark of streamed bodies.

``POST /test/stream`` needs a signed-in caller (``SELF_READ``, which every role holds), streams the
body into SHA-256 through ``stream_body`` and answers its length and digest: the shape of the
footage upload route, without storage. ``GET /test/pool`` answers how many of the database pool's
connections are checked out now and at most since the app was built, and how many bodies are
streaming now.

``uvicorn --factory tests.streaming_app:create_streaming_app`` serves it from ``OPENBWV_*``.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings, load_settings
from openbwv.db import Db, get_session_factory
from openbwv.jobs import JobRegistry
from openbwv.policy import Actor, Permission, Public, Require
from openbwv.web.streams import in_a_thread, stream_body

STREAM_PATH = "/test/stream"
POOL_PATH = "/test/pool"


class PoolWatch:
    """Counts the engine's checked-out connections at each checkout and keeps the highest."""

    def __init__(self, engine: Engine) -> None:
        self.pool = engine.pool
        self.peak = 0
        # Requests in the upload route, reading their bodies.
        self.streaming = 0
        self._lock = threading.Lock()
        event.listen(self.pool, "checkout", self._checked_out)

    def _checked_out(self, *_: Any) -> None:
        with self._lock:
            self.peak = max(self.peak, self.pool.checkedout())  # type: ignore[attr-defined]

    def now(self) -> int:
        checked_out: int = self.pool.checkedout()  # type: ignore[attr-defined]
        return checked_out


def streaming_router(limit: int, watch: PoolWatch) -> APIRouter:
    """The upload route as a footage upload would be, and two that break the rule, for the tests."""
    router = APIRouter()

    @router.post(STREAM_PATH)
    async def upload(request: Request, actor: Actor = Require(Permission.SELF_READ)) -> dict[str, Any]:
        """Stream the body into SHA-256; no session is held while it arrives."""
        digest = hashlib.sha256()
        watch.streaming += 1
        try:
            received = await stream_body(request, in_a_thread(digest.update), limit=limit)
        finally:
            watch.streaming -= 1
        return {"bytes": received, "sha256": digest.hexdigest()}

    @router.post(f"{STREAM_PATH}/holding-a-session")
    async def upload_holding_a_session(
        request: Request, actor: Actor = Require(Permission.SELF_READ)
    ) -> dict[str, Any]:
        """Breaks the rule: a session opened by hand stays open while the body streams."""
        digest = hashlib.sha256()
        factory: sessionmaker[Session] = get_session_factory(request)
        with factory() as db:
            db.execute(text("SELECT 1"))
            received = await stream_body(request, digest.update, limit=limit)
        return {"bytes": received, "sha256": digest.hexdigest()}

    @router.post(f"{STREAM_PATH}/declaring-db")
    async def upload_declaring_db(
        request: Request, db: Db, actor: Actor = Require(Permission.SELF_READ)
    ) -> dict[str, Any]:
        """Breaks the rule: the route's own session would be held while the body streams."""
        received = await stream_body(request, hashlib.sha256().update, limit=limit)
        return {"bytes": received}

    return router


def with_streaming_routes(app: FastAPI) -> PoolWatch:
    """Add the streaming routes and the pool reading to ``app``; the watch on its engine."""
    settings: Settings = app.state.settings
    watch = PoolWatch(app.state.session_factory.kw["bind"])
    app.include_router(streaming_router(settings.max_body_mib * 1024 * 1024, watch))

    @app.get(POOL_PATH, dependencies=[Public])
    async def pool() -> dict[str, int]:
        """The pool's checked-out connections now and at most so far, and the bodies streaming now."""
        return {"checked_out": watch.now(), "peak": watch.peak, "streaming": watch.streaming}

    return watch


def create_streaming_app() -> FastAPI:
    """The app from ``OPENBWV_*`` settings, as ``openbwv serve`` builds it, with the streaming routes."""
    app = create_app(load_settings(), jobs=JobRegistry())
    with_streaming_routes(app)
    return app
