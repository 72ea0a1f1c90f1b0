"""The taser domain's declaration: deployment reports, their review and linked footage, device logs,
the exceptions and settings professional standards keep, the figures of use, and the jobs that link
late footage, raise uses without footage and reconcile device logs with reports, and automatic
recording when a Taser is armed (its tasks, and the read of the commands sent)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.domains import Domain, JobContext
from openbwv.jobs import JobRegistry
from openbwv.policy import Permission
from openbwv.taser import linking, reconcile
from openbwv.taser.api import router as api
from openbwv.taser.device_logs.api import router as device_logs_api
from openbwv.taser.exception_pages import router as exception_pages
from openbwv.taser.figures_api import router as figures_api
from openbwv.taser.figures_pages import router as figures_pages
from openbwv.taser.oversight_api import router as oversight_api
from openbwv.taser.pages import router as pages
from openbwv.taser.recording_api import router as recording_api
from openbwv.taser.recording_jobs import recording_jobs
from openbwv.web.render import NavItem

LINK_NEW_FOOTAGE = "taser.link_new_footage"
# Every minute: footage that docks after a report is linked (and kept as evidence) within a minute or
# so of its probe.
LINK_NEW_FOOTAGE_CRON = "* * * * *"
RAISE_NO_FOOTAGE = "taser.raise_no_footage"
RAISE_NO_FOOTAGE_CRON = "*/15 * * * *"
RECONCILE_DEVICE_LOGS = "taser.reconcile_device_logs"
# Every quarter of an hour: a trigger pull whose report is due is judged within 15 minutes of it.
RECONCILE_DEVICE_LOGS_CRON = "*/15 * * * *"

registry = JobRegistry()


@registry.schedule(LINK_NEW_FOOTAGE, LINK_NEW_FOOTAGE_CRON)
def link_new_footage(factory: sessionmaker[Session]) -> None:
    """Link lately probed clips to the reports of uses they recorded."""
    with transaction(factory) as db:
        linking.link_new_footage(db)


@registry.schedule(RAISE_NO_FOOTAGE, RAISE_NO_FOOTAGE_CRON)
def raise_no_footage(factory: sessionmaker[Session]) -> None:
    """Raise an exception on each use past the grace period with no footage."""
    with transaction(factory) as db:
        linking.raise_no_footage(db)


@registry.schedule(RECONCILE_DEVICE_LOGS, RECONCILE_DEVICE_LOGS_CRON)
def reconcile_device_logs(factory: sessionmaker[Session]) -> None:
    """Judge the trigger pulls and arcs whose report has come due, a short transaction per batch."""
    while True:
        with transaction(factory) as db:
            judged = reconcile.reconcile_due_entries(db, limit=reconcile.BATCH)
        if judged.judged < reconcile.BATCH:
            return


def jobs_for(context: JobContext) -> JobRegistry:
    """The schedules above, and automatic recording's tasks, which publish through the force's broker."""
    jobs = JobRegistry()
    jobs.include(registry)
    jobs.include(recording_jobs(context))
    return jobs


DOMAIN = Domain(
    name="taser",
    routers=(
        api,
        oversight_api,
        device_logs_api,
        figures_api,
        recording_api,
        pages,
        figures_pages,
        exception_pages,
    ),
    navigation=(
        NavItem("Taser reports", "/taser/deployments", Permission.TASER_DEPLOYMENT_READ_OWN, order=97),
        NavItem("Taser figures", "/taser/figures", Permission.TASER_FIGURES_READ, order=98),
        NavItem("Taser exceptions", "/taser/exceptions", Permission.TASER_EXCEPTION_READ, order=99),
    ),
    jobs=jobs_for,
)
