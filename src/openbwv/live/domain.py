"""The live domain's declaration: telemetry in (HTTP route and MQTT consumer), the map's GeoJSON,
its event stream and its page, live view's API, the nightly prune of position history, the closing
of media server readers whose view is no longer live, and the ``live`` command."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import transaction
from openbwv.domains import Domain, JobContext
from openbwv.jobs import JobRegistry
from openbwv.live import readers, telemetry
from openbwv.live.api import router as api
from openbwv.live.map_state import follow_map_in_app
from openbwv.live.mediamtx_api import media_server_control
from openbwv.live.mqtt import TOPIC, consume_in_app, live_app
from openbwv.live.pages import router as pages
from openbwv.live.simulate_cli import simulate_app
from openbwv.live.streams_api import router as streams_api
from openbwv.live.view_pages import router as view_pages
from openbwv.live.views_api import router as views_api
from openbwv.policy import Permission
from openbwv.web.render import NavItem

HISTORY_RETENTION = "live.history_retention"
# Nightly, in the quiet hours, apart from footage retention (02:30) and the audit log's check (03:15).
HISTORY_RETENTION_CRON = "50 2 * * *"
CLOSE_READERS = "live.close_media_server_readers"
# Every five seconds: a reader of an expired view (or one ended outside live view's routes) is cut
# off within seconds, as the embedded relay's viewers are (streams_api.RECHECK_SECONDS).
CLOSE_READERS_CRON = "* * * * * */5"


def jobs_for(context: JobContext) -> JobRegistry:
    """The nightly prune of positions older than ``OPENBWV_LIVE_HISTORY_DAYS``, and with a media
    server (``OPENBWV_MEDIAMTX_API_URL``) the closing of readers whose view is no longer live."""
    registry = JobRegistry()
    keep = timedelta(days=context.settings.live_history_days)
    media_server = media_server_control(context.settings.mediamtx_api_url)

    @registry.schedule(HISTORY_RETENTION, HISTORY_RETENTION_CRON)
    def prune_history(factory: sessionmaker[Session]) -> None:
        """Every night: delete positions past their retention, a short transaction per chunk."""
        now = clock.now()
        while True:
            with transaction(factory) as db:
                deleted = telemetry.prune_history(db, keep=keep, now=now)
            if deleted < telemetry.PRUNE_CHUNK:
                return

    if media_server is not None:

        @registry.schedule(CLOSE_READERS, CLOSE_READERS_CRON)
        def close_readers(factory: sessionmaker[Session]) -> None:
            """Every few seconds: close on the media server the readers of views that expired or
            ended, retrying kicks that failed."""
            readers.close_readers(factory, media_server)

    return registry


DOMAIN = Domain(
    name="live",
    routers=(api, views_api, streams_api, pages, view_pages),
    navigation=(NavItem("Live map", "/live/map", Permission.LIVE_MAP_READ, order=96),),
    jobs=jobs_for,
    cli={"live": live_app, "simulate": simulate_app},
    topics=(TOPIC,),
    background=(consume_in_app, follow_map_in_app),
)
