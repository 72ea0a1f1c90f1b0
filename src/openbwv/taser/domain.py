"""The taser domain's declaration: the deployment reports' and device logs' JSON routes, and the
reconciliation of device logs with reports as their due times pass."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.domains import Domain
from openbwv.jobs import JobRegistry
from openbwv.taser import reconcile
from openbwv.taser.api import router as api
from openbwv.taser.device_logs.api import router as device_logs_api

RECONCILE_DEVICE_LOGS = "taser.reconcile_device_logs"
# Every quarter of an hour: a trigger pull whose report is due is judged within 15 minutes of it.
RECONCILE_DEVICE_LOGS_CRON = "*/15 * * * *"

jobs = JobRegistry()


@jobs.schedule(RECONCILE_DEVICE_LOGS, RECONCILE_DEVICE_LOGS_CRON)
def reconcile_device_logs(factory: sessionmaker[Session]) -> None:
    """Judge the trigger pulls and arcs whose report has come due, a short transaction per batch."""
    while True:
        with transaction(factory) as db:
            judged = reconcile.reconcile_due_entries(db, limit=reconcile.BATCH)
        if judged.judged < reconcile.BATCH:
            return


DOMAIN = Domain(name="taser", routers=(api, device_logs_api), jobs=jobs)
