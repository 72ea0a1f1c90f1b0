"""The footage domain's declaration: the footage API, the ingest, probe and retention jobs,
``openbwv storage check`` over the objects its rows name, and ``openbwv footage retention``."""

from openbwv.domains import Domain, JobContext
from openbwv.footage import jobs
from openbwv.footage.api import router as api
from openbwv.footage.cli import footage_app
from openbwv.footage.pages import router as pages
from openbwv.footage.player import router as player
from openbwv.footage.service import stored_objects
from openbwv.jobs import JobRegistry
from openbwv.policy import Permission
from openbwv.storage.cli import make_storage_app
from openbwv.web.render import NavItem


def _jobs(context: JobContext) -> JobRegistry:
    return jobs.registry_for(context.settings)


DOMAIN = Domain(
    name="footage",
    routers=(api, player, pages),
    navigation=(
        NavItem("Library", "/footage", Permission.FOOTAGE_CLIP_SEARCH, order=91),
        NavItem("My footage", "/footage/mine", Permission.FOOTAGE_CLIP_TAG, order=92, officers_only=True),
        NavItem(
            "Untagged in team", "/footage/untagged", Permission.FOOTAGE_TEAM_TAG, order=93, officers_only=True
        ),
        NavItem("Evidence queue", "/footage/queue", Permission.FOOTAGE_EVIDENCE_MANAGE, order=94),
        NavItem("Arrivals", "/footage/arrivals", Permission.FOOTAGE_ARRIVALS_READ, order=95),
    ),
    jobs=_jobs,
    cli={
        "footage": footage_app,
        "storage": make_storage_app(
            stored_objects, prefixes=("clips/", "quarantine/", "posters/", "thumbs/")
        ),
    },
)
