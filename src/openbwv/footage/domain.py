"""The footage domain's declaration: the footage API and the ingest and probe jobs."""

from openbwv.domains import Domain, JobContext
from openbwv.footage import jobs
from openbwv.footage.api import router as api
from openbwv.jobs import JobRegistry


def _jobs(context: JobContext) -> JobRegistry:
    return jobs.registry_for(context.settings)


DOMAIN = Domain(name="footage", routers=(api,), jobs=_jobs)
