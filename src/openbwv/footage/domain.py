"""The footage domain's declaration: the footage API, the ingest and probe jobs, and
``openbwv storage check`` over the objects its rows name."""

from openbwv.domains import Domain, JobContext
from openbwv.footage import jobs
from openbwv.footage.api import router as api
from openbwv.footage.service import stored_objects
from openbwv.jobs import JobRegistry
from openbwv.storage.cli import make_storage_app


def _jobs(context: JobContext) -> JobRegistry:
    return jobs.registry_for(context.settings)


DOMAIN = Domain(
    name="footage",
    routers=(api,),
    jobs=_jobs,
    cli={"storage": make_storage_app(stored_objects, prefixes=("clips/", "quarantine/"))},
)
